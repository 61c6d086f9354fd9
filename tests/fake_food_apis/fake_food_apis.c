/* fake-food-apis: a local stand-in for USDA FoodData Central and Open Food
 * Facts, for the ingredient-scoring tests. It answers the real endpoints with
 * the real response shapes (written by hand from the public API guides:
 * fdc.nal.usda.gov/api-guide, openfoodfacts.github.io/openfoodfacts-server/api)
 * for a small catalogue, and can be told to fail, hang or rate-limit.
 *
 *   GET /fdc/v1/foods/search?query=Q&api_key=K   {"totalHits", "foods": [...]}
 *   GET /fdc/v1/food/{fdcId}?api_key=K           one food, nested nutrients
 *   GET /cgi-bin/search.pl?search_terms=Q&json=1 {"count", "products": [...]}
 *   GET /api/v2/product/{code}                   {"status": 1, "product": {...}}
 *
 * Control (tests only):
 *   POST /_mode?api=usda|off&mode=ok|fail|hang|limit|junk
 *        fail: 500; hang: no answer until the mode changes (or 60 s);
 *        limit: 429 with Retry-After, as api.data.gov does; junk: 200 with
 *        an HTML page
 *   GET  /_stats  {"usda": {"calls": n, "at_ms": [...]}, "off": {...}}
 *
 * Usage: fake-food-apis [PORT] (else $FAKE_FOOD_APIS_PORT). Stops on
 * SIGTERM/SIGINT. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum api { USDA, OFF, N_API };
enum mode { M_OK, M_FAIL, M_HANG, M_LIMIT, M_JUNK };
static const char *const api_names[N_API] = { "usda", "off" };

#define MAX_CALLS 100000

static volatile sig_atomic_t stop;
static _Atomic int modes[N_API];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long long *call_ms[N_API];
static int n_calls[N_API];

/* ---------- the catalogue ---------- */

/* One nutrient of a food: FoodData Central id, name, unit, amount per 100 g. */
struct nutrient {
    int id;
    const char *number, *name, *unit;
    double amount;
};

struct food {
    const char *key; /* the normalised name it is found by */
    int fdc_id;      /* 0: not in FoodData Central */
    const char *description, *data_type, *category;
    struct nutrient nutrients[16];
    /* Open Food Facts product, as JSON text (NULL: not there) */
    const char *off_code;
    const char *off_product;
};

/* Values: USDA SR Legacy for the foods it has (rounded); products: made up in
 * the shape of real ones. */
static const struct food foods[] = {
    { "salmon", 175168, "Fish, salmon, Atlantic, farmed, raw", "SR Legacy", "Finfish and Shellfish Products",
      { { 1008, "208", "Energy", "KCAL", 208 },
        { 1003, "203", "Protein", "G", 20.42 },
        { 1004, "204", "Total lipid (fat)", "G", 13.42 },
        { 1005, "205", "Carbohydrate, by difference", "G", 0 },
        { 1079, "291", "Fiber, total dietary", "G", 0 },
        { 2000, "269", "Sugars, total including NLEA", "G", 0 },
        { 1258, "606", "Fatty acids, total saturated", "G", 3.05 },
        { 1257, "605", "Fatty acids, total trans", "G", 0 },
        { 1270, "619", "PUFA 18:3", "G", 0.107 },
        { 1278, "629", "PUFA 20:5 n-3 (EPA)", "G", 0.862 },
        { 1272, "621", "PUFA 22:6 n-3 (DHA)", "G", 1.104 },
        { 1269, "618", "PUFA 18:2", "G", 0.592 },
        { 1162, "401", "Vitamin C, total ascorbic acid", "MG", 3.9 },
        { 1109, "323", "Vitamin E (alpha-tocopherol)", "MG", 3.55 } },
      "2000000000017",
      "{\"code\": \"2000000000017\", \"product_name\": \"Atlantic salmon fillets\", \"nova_group\": 1,"
      " \"categories\": \"Seafood, Fishes, Salmons\", \"categories_tags\": [\"en:seafood\", \"en:fishes\","
      " \"en:salmons\"], \"additives_tags\": [], \"allergens_tags\": [\"en:fish\"], \"ingredients_text\":"
      " \"Atlantic salmon (Salmo salar) 100%\", \"nutriments\": {\"energy-kcal_100g\": 206, \"proteins_100g\": 20,"
      " \"carbohydrates_100g\": 0, \"fat_100g\": 13, \"saturated-fat_100g\": 3.1, \"sugars_100g\": 0,"
      " \"fiber_100g\": 0, \"salt_100g\": 0.15, \"omega-3-fat_100g\": 2.1}}" },
    { "white bread", 172686, "Bread, white, commercially prepared", "SR Legacy", "Baked Products",
      { { 1008, "208", "Energy", "KCAL", 266 },
        { 1003, "203", "Protein", "G", 7.64 },
        { 1004, "204", "Total lipid (fat)", "G", 3.29 },
        { 1005, "205", "Carbohydrate, by difference", "G", 50.61 },
        { 1079, "291", "Fiber, total dietary", "G", 2.4 },
        { 2000, "269", "Sugars, total including NLEA", "G", 5.34 },
        { 1258, "606", "Fatty acids, total saturated", "G", 0.72 },
        { 1257, "605", "Fatty acids, total trans", "G", 0 },
        { 1270, "619", "PUFA 18:3", "G", 0.12 },
        { 1269, "618", "PUFA 18:2", "G", 1.47 },
        { 1162, "401", "Vitamin C, total ascorbic acid", "MG", 0 },
        { 1109, "323", "Vitamin E (alpha-tocopherol)", "MG", 0.22 } },
      "2000000000024",
      "{\"code\": \"2000000000024\", \"product_name\": \"Sliced white bread\", \"nova_group\": 4,"
      " \"categories\": \"Breads, White breads\", \"categories_tags\": [\"en:breads\", \"en:white-breads\"],"
      " \"additives_tags\": [\"en:e282\", \"en:e471\"], \"allergens_tags\": [\"en:gluten\"],"
      " \"ingredients_text\": \"Wheat flour, water, sugar, yeast, salt, emulsifier: E471, preservative: E282\","
      " \"nutriments\": {\"energy-kcal_100g\": 265, \"proteins_100g\": 8, \"carbohydrates_100g\": 49,"
      " \"fat_100g\": 3.2, \"saturated-fat_100g\": 0.7, \"sugars_100g\": 5, \"fiber_100g\": 2.5}}" },
    { "diet cola", 0, NULL, NULL, NULL, { { 0 } }, "2000000000031",
      "{\"code\": \"2000000000031\", \"product_name\": \"Diet cola\", \"nova_group\": 4,"
      " \"categories\": \"Beverages, Sodas, Diet sodas\", \"categories_tags\": [\"en:beverages\", \"en:sodas\","
      " \"en:diet-sodas\"], \"additives_tags\": [\"en:e150d\", \"en:e338\", \"en:e950\", \"en:e951\"],"
      " \"allergens_tags\": [], \"ingredients_text\": \"Carbonated water, colour: E150d, acid: E338,"
      " sweeteners: aspartame, acesulfame K, natural flavourings, caffeine\", \"nutriments\":"
      " {\"energy-kcal_100g\": 0.4, \"proteins_100g\": 0, \"carbohydrates_100g\": 0, \"fat_100g\": 0,"
      " \"sugars_100g\": 0, \"caffeine_100g\": 0.013}}" },
    { "3017620422003", 0, NULL, NULL, NULL, { { 0 } }, "3017620422003",
      "{\"code\": \"3017620422003\", \"product_name\": \"Nutella\", \"nova_group\": 4, \"categories\":"
      " \"Spreads, Sweet spreads, Hazelnut spreads\", \"categories_tags\": [\"en:spreads\", \"en:sweet-spreads\","
      " \"en:hazelnut-spreads\"], \"additives_tags\": [\"en:e322\", \"en:e322i\"], \"allergens_tags\": [\"en:milk\","
      " \"en:nuts\", \"en:soybeans\"], \"ingredients_text\": \"Sugar, palm oil, hazelnuts 13%, skimmed milk powder"
      " 8.7%, fat-reduced cocoa 7.4%, emulsifier: lecithins (soya), vanillin\", \"nutriments\":"
      " {\"energy-kcal_100g\": 539, \"proteins_100g\": 6.3, \"carbohydrates_100g\": 57.5, \"fat_100g\": 30.9,"
      " \"saturated-fat_100g\": 10.6, \"sugars_100g\": 56.3, \"fiber_100g\": 0}}" },
};
#define N_FOODS (sizeof foods / sizeof foods[0])

/* A food's nutrients as the search endpoint lists them (flat: "nutrientId",
 * "value") or as the food endpoint does (nested "nutrient", "amount"). */
static json_t *nutrients(const struct food *f, bool nested)
{
    json_t *a = json_array();
    for (int i = 0; i < 16 && f->nutrients[i].id; i++) {
        const struct nutrient *n = &f->nutrients[i];
        json_t *item = nested ? json_pack("{s:s, s:i, s:f, s:i, s:{s:i, s:s, s:s, s:i, s:s}}", "type",
                                          "FoodNutrient", "id", 2000000 + n->id, "amount", n->amount, "dataPoints", 3,
                                          "nutrient", "id", n->id, "number", n->number, "name", n->name, "rank",
                                          100 * i, "unitName", n->unit)
                              : json_pack("{s:i, s:s, s:s, s:s, s:f, s:s, s:s}", "nutrientId", n->id, "nutrientName",
                                          n->name, "nutrientNumber", n->number, "unitName", n->unit, "value",
                                          n->amount, "derivationCode", "A", "derivationDescription", "Analytical");
        json_array_append_new(a, item);
    }
    return a;
}

/* A query names a food when it starts with the food's key as whole words
 * ("salmon" and "salmon it123x1" do; "salmonella" does not), so tests can
 * give each run its own ingredient names. */
static const struct food *by_key(const char *query)
{
    for (size_t i = 0; query && i < N_FOODS; i++) {
        size_t n = strlen(foods[i].key);
        if (strncmp(foods[i].key, query, n) == 0 && (query[n] == '\0' || query[n] == ' '))
            return &foods[i];
    }
    return NULL;
}

static json_t *fdc_search(const char *query)
{
    const struct food *f = by_key(query);
    json_t *list = json_array();
    if (f && f->fdc_id)
        json_array_append_new(list, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:f, s:o}", "fdcId", f->fdc_id,
                                              "description", f->description, "dataType", f->data_type,
                                              "publishedDate", "2019-04-01", "foodCategory", f->category,
                                              "ndbNumber", "15236", "score", 812.5, "foodNutrients",
                                              nutrients(f, false)));
    int hits = (int)json_array_size(list);
    return json_pack("{s:i, s:i, s:i, s:[i], s:{s:s, s:i, s:i}, s:o}", "totalHits", hits, "currentPage", 1,
                     "totalPages", hits ? 1 : 0, "pageList", 1, "foodSearchCriteria", "query", query ? query : "",
                     "pageNumber", 1, "pageSize", 5, "foods", list);
}

static json_t *fdc_food(int id)
{
    for (size_t i = 0; i < N_FOODS; i++)
        if (foods[i].fdc_id && foods[i].fdc_id == id)
            return json_pack("{s:i, s:s, s:s, s:s, s:{s:i, s:s, s:s}, s:o, s:[]}", "fdcId", id, "description",
                             foods[i].description, "dataType", foods[i].data_type, "publicationDate", "4/1/2019",
                             "foodCategory", "id", 18, "code", "1800", "description", foods[i].category,
                             "foodNutrients", nutrients(&foods[i], true), "foodPortions");
    return NULL;
}

static json_t *off_product(const struct food *f)
{
    return f && f->off_product ? json_loads(f->off_product, 0, NULL) : NULL;
}

/* ---------- HTTP ---------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, json_t *body, const char *retry_after)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("{}");
    json_decref(body);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after)
        MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static json_t *stats(void)
{
    json_t *o = json_object();
    pthread_mutex_lock(&lock);
    for (int a = 0; a < N_API; a++) {
        json_t *at = json_array();
        for (int i = 0; i < n_calls[a]; i++)
            json_array_append_new(at, json_integer(call_ms[a][i]));
        json_object_set_new(o, api_names[a], json_pack("{s:i, s:o}", "calls", n_calls[a], "at_ms", at));
    }
    pthread_mutex_unlock(&lock);
    return o;
}

/* Counts the call, then plays the API's mode: NULL to answer normally, else
 * the reply already queued. */
static bool misbehave(struct MHD_Connection *c, enum api a, enum MHD_Result *ret)
{
    pthread_mutex_lock(&lock);
    if (n_calls[a] < MAX_CALLS)
        call_ms[a][n_calls[a]++] = now_ms();
    pthread_mutex_unlock(&lock);
    int mode = atomic_load(&modes[a]);
    if (mode == M_HANG) {
        for (int i = 0; i < 1200 && !stop && atomic_load(&modes[a]) == M_HANG; i++)
            usleep(50 * 1000);
        mode = atomic_load(&modes[a]);
    }
    if (mode == M_FAIL) {
        *ret = reply(c, 500, json_pack("{s:s}", "error", "internal server error (fake)"), NULL);
        return true;
    }
    if (mode == M_JUNK) { /* a captive portal or a proxy's error page: 200, not JSON */
        static const char page[] = "<html><body>Service temporarily unavailable</body></html>";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof page - 1, (void *)page, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "text/html");
        *ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return true;
    }
    if (mode == M_LIMIT) {
        *ret = reply(c, 429,
                     json_pack("{s:{s:s, s:s}}", "error", "code", "OVER_RATE_LIMIT", "message",
                               "You have exceeded your rate limit. Try again later."),
                     "1");
        return true;
    }
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
    (void)cls, (void)version, (void)upload;
    if (*con_cls == NULL) { /* first call: headers only */
        *con_cls = c;
        return MHD_YES;
    }
    *upload_len = 0;
    enum MHD_Result ret = MHD_NO;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/_mode") == 0) {
        const char *api = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api");
        const char *mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
        static const char *const mode_names[] = { "ok", "fail", "hang", "limit", "junk" };
        for (int a = 0; a < N_API; a++)
            for (int m = 0; m < 5; m++)
                if (api && mode && strcmp(api, api_names[a]) == 0 && strcmp(mode, mode_names[m]) == 0) {
                    atomic_store(&modes[a], m);
                    return reply(c, 200, json_pack("{s:s, s:s}", "api", api, "mode", mode), NULL);
                }
        return reply(c, 400, json_pack("{s:s}", "error", "api=usda|off&mode=ok|fail|hang|limit|junk"), NULL);
    }
    if (strcmp(method, "GET") != 0)
        return reply(c, 405, json_pack("{s:s}", "error", "GET only"), NULL);
    if (strcmp(url, "/_stats") == 0)
        return reply(c, 200, stats(), NULL);
    if (strncmp(url, "/fdc/v1/", 8) == 0) {
        if (misbehave(c, USDA, &ret))
            return ret;
        /* api.data.gov refuses a call without a key */
        const char *key = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api_key");
        if (!key || !*key)
            return reply(c, 403,
                         json_pack("{s:{s:s, s:s}}", "error", "code", "API_KEY_MISSING", "message",
                                   "No api_key was supplied. Get one at https://api.nal.usda.gov:443"),
                         NULL);
        if (strcmp(url, "/fdc/v1/foods/search") == 0)
            return reply(c, 200, fdc_search(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "query")), NULL);
        if (strncmp(url, "/fdc/v1/food/", 13) == 0) {
            json_t *f = fdc_food((int)strtol(url + 13, NULL, 10));
            return f ? reply(c, 200, f, NULL) : reply(c, 404, json_pack("{s:s}", "error", "Not Found"), NULL);
        }
        return reply(c, 404, json_pack("{s:s}", "error", "Not Found"), NULL);
    }
    if (strcmp(url, "/cgi-bin/search.pl") == 0 || strncmp(url, "/api/v2/product/", 16) == 0) {
        if (misbehave(c, OFF, &ret))
            return ret;
        if (url[1] == 'c') {
            const char *terms = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "search_terms");
            json_t *p = off_product(by_key(terms));
            int count = p ? 1 : 0;
            return reply(c, 200,
                         json_pack("{s:i, s:i, s:i, s:i, s:i, s:o}", "count", count, "page", 1, "page_count", count,
                                   "page_size", 1, "skip", 0, "products", p ? json_pack("[o]", p) : json_array()),
                         NULL);
        }
        const char *code = url + 16;
        const struct food *f = NULL;
        for (size_t i = 0; i < N_FOODS && !f; i++)
            if (foods[i].off_code && strcmp(foods[i].off_code, code) == 0)
                f = &foods[i];
        json_t *p = off_product(f);
        if (!p)
            return reply(c, 404,
                         json_pack("{s:s, s:i, s:s}", "code", code, "status", 0, "status_verbose",
                                   "product not found"),
                         NULL);
        return reply(c, 200,
                     json_pack("{s:s, s:o, s:i, s:s}", "code", code, "product", p, "status", 1, "status_verbose",
                               "product found"),
                     NULL);
    }
    return reply(c, 404, json_pack("{s:s}", "error", "no such endpoint in the fake"), NULL);
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    const char *port_text = argc > 1 ? argv[1] : getenv("FAKE_FOOD_APIS_PORT");
    long port = port_text ? strtol(port_text, NULL, 10) : 0;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    for (int a = 0; a < N_API; a++)
        call_ms[a] = calloc(MAX_CALLS, sizeof *call_ms[a]);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                                            (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
                                            &addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake-food-apis: cannot listen on port %ld\n", port);
        return 1;
    }
    fprintf(stderr, "fake-food-apis: listening on 127.0.0.1:%ld\n", port);
    while (!stop)
        usleep(50 * 1000);
    MHD_stop_daemon(d);
    for (int a = 0; a < N_API; a++)
        free(call_ms[a]);
    return 0;
}
