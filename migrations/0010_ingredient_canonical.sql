-- The name an ingredient's score is kept under (ingredient_scores.name): an
-- alias in food_aliases stands for its food's name; any other name is
-- itself. Names arrive normalised by hf_food_name and are lowercased here,
-- as the tables' CHECKs require. One definition for the scoring pool, the
-- intake's ingredient read and hf-adherence, which asks for a score of every
-- ingredient a log names that has none yet. ($1, not the parameter's name:
-- inside the query "name" would be foods.name.)
CREATE FUNCTION ingredient_canonical(name text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT f.name FROM food_aliases a JOIN foods f ON f.id = a.food_id
                     WHERE a.alias = lower($1)), lower($1))
$$;
