-- Ingredient scoring (issue 10; workers/ingredient_scoring/README.md).
--
-- 002's rules read more than the macros foods holds: these nullable columns
-- keep them in the same table (one nutrition table, not two). NULL means
-- unknown, never zero. The ingredient-scoring pool writes them: on rows it
-- adds (source 'usda' or 'off'), and on the table's rows only where they are
-- still NULL (the table's own values win).
ALTER TABLE foods
    ADD COLUMN glycemic_index  numeric(4, 1) CHECK (glycemic_index BETWEEN 0 AND 150),
    ADD COLUMN added_sugars_g  numeric(5, 2) CHECK (added_sugars_g BETWEEN 0 AND 100),
    ADD COLUMN sat_fat_g       numeric(5, 2) CHECK (sat_fat_g BETWEEN 0 AND 100),
    ADD COLUMN trans_fat_g     numeric(5, 2) CHECK (trans_fat_g BETWEEN 0 AND 100),
    ADD COLUMN omega3_g        numeric(5, 2) CHECK (omega3_g BETWEEN 0 AND 100),
    ADD COLUMN omega6_g        numeric(5, 2) CHECK (omega6_g BETWEEN 0 AND 100),
    ADD COLUMN vitamin_c_mg    numeric(8, 2) CHECK (vitamin_c_mg BETWEEN 0 AND 100000),
    ADD COLUMN vitamin_e_mg    numeric(8, 2) CHECK (vitamin_e_mg BETWEEN 0 AND 100000),
    ADD COLUMN caffeine_mg     numeric(8, 2) CHECK (caffeine_mg BETWEEN 0 AND 100000);

-- Neither FoodData Central nor Open Food Facts publishes a glycemic index,
-- which 002's blood-sugar rule starts from (002 line 150 names USDA "if
-- present"). These are the averages of the International Tables of Glycemic
-- Index (Atkinson et al., Diabetes Care 2008 and Am J Clin Nutr 2021;
-- glucose = 100), for the foods of the curated table that have one. A food
-- or alias missing here keeps NULL: the rule does not fire and the score says
-- so in its details.
UPDATE foods f SET glycemic_index = v.gi
FROM (VALUES
    ('white bread', 75), ('whole wheat bread', 74), ('white rice', 73), ('brown rice', 68),
    ('oats', 55), ('oatmeal', 55), ('porridge', 55), ('cornflakes', 81), ('potato', 78), ('boiled potato', 78),
    ('french fries', 63), ('sweet potato', 63), ('pasta', 49), ('spaghetti', 49), ('couscous', 65),
    ('quinoa', 53), ('barley', 28), ('sweet corn', 52), ('corn', 52), ('apple', 36), ('orange', 43),
    ('banana', 51), ('mango', 51), ('pineapple', 59), ('watermelon', 76), ('grapes', 59),
    ('strawberries', 41), ('dates', 42), ('raisins', 64), ('carrot', 39), ('carrots', 39), ('lentils', 32),
    ('chickpeas', 28), ('kidney beans', 24), ('soybeans', 16), ('milk', 39), ('skim milk', 37),
    ('yogurt', 41), ('greek yogurt', 41), ('ice cream', 51), ('soy milk', 34), ('honey', 61),
    ('sugar', 65), ('glucose', 103), ('fructose', 15), ('chocolate', 40), ('popcorn', 65),
    ('potato chips', 56), ('rice crackers', 87), ('cola', 59), ('orange juice', 50), ('apple juice', 41),
    ('peanuts', 13)
) AS v(name, gi)
WHERE f.glycemic_index IS NULL
  AND (f.name = v.name OR f.id = (SELECT a.food_id FROM food_aliases a WHERE a.alias = v.name));
