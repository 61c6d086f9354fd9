/* hf-openapi: writes the intake's OpenAPI document (hf_openapi.h).
 *   hf-openapi [FILE]        the document, to FILE or stdout
 *   hf-openapi --check FILE  exit 1 when FILE (the committed copy) differs */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_openapi.h"

/* 0 when the file holds exactly text; else tells how to refresh it. */
static int check(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "hf-openapi: cannot read %s\n", path);
        return 1;
    }
    size_t i = 0, line = 1;
    int c;
    while ((c = getc(f)) != EOF && text[i] == (char)c)
        line += text[i++] == '\n';
    bool same = c == EOF && text[i] == '\0';
    fclose(f);
    if (same)
        return 0;
    fprintf(stderr,
            "hf-openapi: %s is stale (differs from line %zu): schemas/ or the generator changed.\n"
            "Refresh it and commit the result: cmake --build build --target hf-openapi && "
            "build/bin/hf-openapi %s\n",
            path, line, path);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 3 || (argc == 3 && strcmp(argv[1], "--check") != 0) ||
        (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: hf-openapi [FILE] | hf-openapi --check FILE\n");
        return 2;
    }
    struct hf_err err = { 0 };
    hf_schema_registry *reg = NULL;
    char *text = NULL;
    int status = 1;
    if (hf_schema_registry_new(&reg, &err) || hf_openapi_render(reg, &text, &err)) {
        fprintf(stderr, "hf-openapi: %s\n", err.msg);
        goto out;
    }
    if (argc == 3) {
        status = check(argv[2], text);
        goto out;
    }
    FILE *f = argc == 2 ? fopen(argv[1], "wb") : stdout;
    if (!f) {
        fprintf(stderr, "hf-openapi: cannot write %s\n", argv[1]);
        goto out;
    }
    size_t n = strlen(text);
    status = fwrite(text, 1, n, f) == n ? 0 : 1;
    if ((f != stdout && fclose(f) != 0) || (f == stdout && fflush(f) != 0))
        status = 1;
    if (status)
        fprintf(stderr, "hf-openapi: write failed\n");
out:
    free(text);
    hf_schema_registry_free(reg);
    return status;
}
