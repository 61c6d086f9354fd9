/* fake_vision: a local stand-in for the two third parties of the meal-image
 * pool, over HTTPS (tests/fake_vision/cert.pem, for 127.0.0.1 and localhost):
 *
 *  - an image host: GET /img/<name> serves test images and broken files, GET
 *    /redirect?to=<url> answers 302 to url;
 *  - an OpenAI-compatible vision API: POST /v1/chat/completions, answering by
 *    the mode written inside the image it is sent (a PNG tEXt chunk or a JPEG
 *    comment "fake-vision:<mode>"), so each test picks the behaviour with the
 *    image URL it posts: ok, fenced, unknown, empty, 500, garbage, shape, slow
 *    (3 s), hang. GET /stats counts the chat calls.
 *
 * Broken images: bomb.png (IHDR claims 100000 x 100000), big.png (2 MB),
 * cut.png (no IEND), short.png (connection closed half way through the
 * announced length), text.png (not an image), stall.png (5 s before
 * answering); any other name is a 404.
 *
 * Environment: FAKE_VISION_PORT (required), FAKE_VISION_DELAY_MS (added to
 * every chat answer; the benchmark's provider latency), FAKE_VISION_KEY (when
 * set, chat calls without "Authorization: Bearer <key>" get 401).
 * A test tool: stops on SIGTERM/SIGINT. */
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static atomic_long chat_calls;
static int delay_ms;
static const char *api_key;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void sleep_ms(int ms)
{
    while (ms > 0 && !stop) {
        int step = ms > 50 ? 50 : ms;
        struct timespec ts = { 0, (long)step * 1000000L };
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* ---------- images ---------- */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put32(struct buf *b, uint32_t v)
{
    unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                           (unsigned char)v };
    put(b, x, 4);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void chunk(struct buf *b, const char *type, const void *data, size_t n)
{
    put32(b, (uint32_t)n);
    size_t at = b->len;
    put(b, type, 4);
    put(b, data, n);
    put32(b, crc32_of(b->p + at, n + 4));
}

/* A 1x1 white PNG (width x height claimed in IHDR) carrying the mode in a
 * tEXt chunk, padded with `pad` bytes of text, with or without its IEND. */
static struct buf make_png(const char *mode, uint32_t width, uint32_t height, size_t pad, int with_end)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    struct buf b = { 0 };
    put(&b, sig, 8);
    unsigned char ihdr[13] = { 0 };
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(width >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(height >> (24 - 8 * i));
    }
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = 2; /* RGB */
    chunk(&b, "IHDR", ihdr, 13);
    char text[64];
    int tn = snprintf(text, sizeof text, "fake-vision:%s;", mode);
    unsigned char *t = calloc(1, (size_t)tn + pad + 1);
    memcpy(t, text, (size_t)tn);
    memset(t + tn, 'x', pad);
    chunk(&b, "tEXt", t, (size_t)tn + pad);
    free(t);
    /* zlib stream, one stored block: filter byte 0 and one white pixel */
    static const unsigned char idat[] = { 0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0x00, 0xFF,
                                          0xFF, 0xFF, 0x03, 0xFA, 0x01, 0xFE };
    chunk(&b, "IDAT", idat, sizeof idat);
    if (with_end)
        chunk(&b, "IEND", "", 0);
    return b;
}

/* A JPEG header (SOI, COM with the mode, SOF0 of 640 x 480, EOI): enough for
 * the pool's checks and the fake model, not a decodable picture. */
static struct buf make_jpeg(const char *mode)
{
    struct buf b = { 0 };
    static const unsigned char soi[] = { 0xFF, 0xD8 };
    put(&b, soi, 2);
    char text[64];
    int tn = snprintf(text, sizeof text, "fake-vision:%s;", mode);
    unsigned char com[4] = { 0xFF, 0xFE, (unsigned char)((tn + 2) >> 8), (unsigned char)(tn + 2) };
    put(&b, com, 4);
    put(&b, text, (size_t)tn);
    static const unsigned char sof[] = { 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03, 0x01, 0x22,
                                         0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9 };
    put(&b, sof, sizeof sof);
    return b;
}

static struct MHD_Response *from_buf(struct buf *b, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    return r;
}

/* Sends the first half of a body whose length was announced in full. */
static ssize_t half_then_error(void *cls, uint64_t pos, char *out, size_t max)
{
    struct buf *b = cls;
    if (pos >= b->len / 2)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = b->len / 2 - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(out, b->p + pos, n);
    return (ssize_t)n;
}

static void free_buf(void *cls)
{
    struct buf *b = cls;
    free(b->p);
    free(b);
}

static struct MHD_Response *image(const char *name, unsigned *status)
{
    *status = MHD_HTTP_OK;
    char mode[32];
    if (strcmp(name, "bomb.png") == 0) {
        struct buf b = make_png("ok", 100000, 100000, 0, 1);
        return from_buf(&b, "image/png");
    }
    if (strcmp(name, "big.png") == 0) {
        struct buf b = make_png("ok", 1, 1, 2 * 1024 * 1024, 1);
        return from_buf(&b, "image/png");
    }
    if (strcmp(name, "cut.png") == 0) {
        struct buf b = make_png("ok", 1, 1, 0, 0);
        return from_buf(&b, "image/png");
    }
    if (strcmp(name, "short.png") == 0) {
        struct buf *b = malloc(sizeof *b);
        *b = make_png("ok", 1, 1, 64 * 1024, 1);
        return MHD_create_response_from_callback(b->len, 4096, half_then_error, b, free_buf);
    }
    if (strcmp(name, "text.png") == 0) {
        static char text[] = "this is not an image, whatever the name says\n";
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "image/png");
        return r;
    }
    if (strcmp(name, "stall.png") == 0) {
        sleep_ms(5000);
        struct buf b = make_png("ok", 1, 1, 0, 1);
        return from_buf(&b, "image/png");
    }
    static const char *const modes[] = { "ok", "fenced", "unknown", "empty", "500", "garbage", "shape", "slow", "hang" };
    int known = 0;
    if (sscanf(name, "%31[a-z0-9]", mode) == 1)
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            known |= strcmp(mode, modes[i]) == 0;
    if (known && strcmp(name + strlen(mode), ".jpg") == 0) {
        struct buf b = make_jpeg(mode);
        return from_buf(&b, "image/jpeg");
    }
    if (known && strcmp(name + strlen(mode), ".png") == 0) {
        struct buf b = make_png(mode, 640, 480, 0, 1);
        return from_buf(&b, "image/png");
    }
    *status = MHD_HTTP_NOT_FOUND;
    static char nf[] = "no such image\n";
    return MHD_create_response_from_buffer(strlen(nf), nf, MHD_RESPMEM_PERSISTENT);
}

/* ---------- the vision API ---------- */

static const char OK_ITEMS[] = "{\"items\": [{\"name\": \"Scrambled Eggs\", \"grams\": 120},"
                               " {\"name\": \"whole wheat toast\", \"grams\": 64}], \"confidence\": 0.8}";

static size_t b64_decode(const char *in, unsigned char *out, size_t outsz)
{
    static int8_t t[256];
    static int ready;
    if (!ready) {
        memset(t, -1, sizeof t);
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; a[i]; i++)
            t[(unsigned char)a[i]] = (int8_t)i;
        ready = 1;
    }
    size_t o = 0;
    uint32_t v = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '"' && o < outsz; p++) {
        if (t[(unsigned char)*p] < 0)
            break;
        v = v << 6 | (uint32_t)t[(unsigned char)*p];
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return o;
}

/* The mode written in the image of the request, "ok" when none is found. */
static void mode_of(const char *body, char *mode, size_t modesz)
{
    snprintf(mode, modesz, "ok");
    const char *d = strstr(body, ";base64,");
    if (!d)
        return;
    size_t cap = strlen(d);
    unsigned char *img = malloc(cap);
    size_t n = b64_decode(d + 8, img, cap);
    for (size_t i = 0; i + 12 < n; i++)
        if (memcmp(img + i, "fake-vision:", 12) == 0) {
            size_t k = 0;
            while (i + 12 + k < n && k + 1 < modesz &&
                   ((img[i + 12 + k] >= 'a' && img[i + 12 + k] <= 'z') || (img[i + 12 + k] >= '0' && img[i + 12 + k] <= '9')))
                k++;
            memcpy(mode, img + i + 12, k);
            mode[k] = '\0';
            break;
        }
    free(img);
}

static struct MHD_Response *chat_answer(const char *content)
{
    json_t *j = json_pack("{s:s, s:s, s:[{s:i, s:{s:s, s:s}, s:s}]}", "id", "chatcmpl-fake", "object",
                          "chat.completion", "choices", "index", 0, "message", "role", "assistant", "content", content,
                          "finish_reason", "stop");
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    return r;
}

static struct MHD_Response *chat(struct MHD_Connection *c, const char *body, unsigned *status)
{
    atomic_fetch_add(&chat_calls, 1);
    *status = MHD_HTTP_OK;
    if (api_key) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        char want[300];
        snprintf(want, sizeof want, "Bearer %s", api_key);
        if (!auth || strcmp(auth, want) != 0) {
            *status = MHD_HTTP_UNAUTHORIZED;
            return chat_answer("unauthorized");
        }
    }
    json_t *req = json_loads(body, 0, NULL);
    int valid = json_is_string(json_object_get(req, "model")) && json_is_array(json_object_get(req, "messages"));
    json_decref(req);
    if (!valid) {
        *status = MHD_HTTP_BAD_REQUEST;
        return chat_answer("bad request");
    }
    char mode[32];
    mode_of(body, mode, sizeof mode);
    sleep_ms(delay_ms);
    if (strcmp(mode, "hang") == 0)
        sleep_ms(120000);
    if (strcmp(mode, "slow") == 0)
        sleep_ms(3000);
    if (strcmp(mode, "500") == 0) {
        *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        static char e[] = "{\"error\": {\"message\": \"the model is overloaded\"}}";
        return MHD_create_response_from_buffer(strlen(e), e, MHD_RESPMEM_PERSISTENT);
    }
    if (strcmp(mode, "garbage") == 0) {
        static char g[] = "<html><body>502 Bad Gateway</body></html>";
        return MHD_create_response_from_buffer(strlen(g), g, MHD_RESPMEM_PERSISTENT);
    }
    if (strcmp(mode, "shape") == 0)
        return chat_answer("Sure! I see two scrambled eggs and a slice of toast, about 400 kcal.");
    if (strcmp(mode, "fenced") == 0) {
        char fenced[400];
        snprintf(fenced, sizeof fenced, "```json\n%s\n```", OK_ITEMS);
        return chat_answer(fenced);
    }
    if (strcmp(mode, "unknown") == 0)
        return chat_answer("{\"items\": [{\"name\": \"unobtanium stew\", \"grams\": 300}], \"confidence\": 0.6}");
    if (strcmp(mode, "empty") == 0)
        return chat_answer("{\"items\": [], \"confidence\": 0}");
    return chat_answer(OK_ITEMS);
}

/* ---------- dispatch ---------- */

struct upload {
    char *body;
    size_t len;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **ctx)
{
    (void)cls;
    (void)version;
    /* Every request answers on the second call, GETs too: libmicrohttpd
     * closes the connection ("Connection: close") after a response queued on
     * the first call, and an image host that never keeps a connection alive
     * would make the client pay a TLS handshake per image, which no real
     * object store does. */
    struct upload *u = *ctx;
    if (!u) {
        *ctx = calloc(1, sizeof *u);
        return *ctx ? MHD_YES : MHD_NO;
    }
    if (strcmp(method, "POST") == 0) {
        if (*size) {
            u->body = realloc(u->body, u->len + *size + 1);
            memcpy(u->body + u->len, data, *size);
            u->len += *size;
            u->body[u->len] = '\0';
            *size = 0;
            return MHD_YES;
        }
    }
    unsigned status = MHD_HTTP_OK;
    struct MHD_Response *r = NULL;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/v1/chat/completions") == 0) {
        r = chat(c, u->body ? u->body : "", &status);
    } else if (strcmp(method, "GET") == 0 && strncmp(url, "/img/", 5) == 0) {
        r = image(url + 5, &status);
    } else if (strcmp(method, "GET") == 0 && strcmp(url, "/redirect") == 0) {
        const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
        static char empty[] = "";
        r = MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Location", to ? to : "/");
        status = MHD_HTTP_FOUND;
    } else if (strcmp(method, "GET") == 0 && strcmp(url, "/stats") == 0) {
        char *text = NULL;
        if (asprintf(&text, "{\"chat\": %ld}\n", atomic_load(&chat_calls)) < 0)
            return MHD_NO;
        r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    } else {
        static char nf[] = "not found\n";
        r = MHD_create_response_from_buffer(strlen(nf), nf, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct upload *u = *ctx;
    if (u) {
        free(u->body);
        free(u);
    }
    *ctx = NULL;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

int main(void)
{
    const char *port_s = getenv("FAKE_VISION_PORT");
    if (!port_s) {
        fprintf(stderr, "fake_vision: set FAKE_VISION_PORT\n");
        return 2;
    }
    delay_ms = getenv("FAKE_VISION_DELAY_MS") ? atoi(getenv("FAKE_VISION_DELAY_MS")) : 0;
    api_key = getenv("FAKE_VISION_KEY");
    char *cert = slurp(FAKE_VISION_DIR "/cert.pem"), *key = slurp(FAKE_VISION_DIR "/key.pem");
    if (!cert || !key) {
        fprintf(stderr, "fake_vision: cannot read %s/cert.pem and key.pem\n", FAKE_VISION_DIR);
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG,
        (uint16_t)atoi(port_s), NULL, NULL, on_request, NULL, MHD_OPTION_HTTPS_MEM_CERT, cert,
        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1000, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake_vision: cannot listen on port %s\n", port_s);
        return 1;
    }
    fprintf(stderr, "fake_vision: https on port %s, delay %d ms\n", port_s, delay_ms);
    while (!stop)
        sleep_ms(100);
    MHD_stop_daemon(d);
    free(cert);
    free(key);
    return 0;
}
