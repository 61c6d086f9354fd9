/* hfctl dlq list|show|replay: the dead-letter topics of the pools, through
 * hf_dlq (the dashboard, hf-admin, calls the same code). Payloads are never
 * printed; see hf_dlq.h. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_dlq.h"
#include "hfctl.h"

static void print_json(json_t *rows)
{
    json_dumpf(rows, stdout, JSON_INDENT(2));
    putchar('\n');
}

static void print_rows(json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        printf("%s  %s  %s v%s  event %s\n  from %s[%s]@%s after %s attempt(s), %lld bytes\n  error: %s\n",
               json_string_value(json_object_get(r, "dead_letter")),
               json_string_value(json_object_get(r, "dead_lettered_at")),
               json_string_value(json_object_get(r, "schema")), json_string_value(json_object_get(r, "version")),
               json_string_value(json_object_get(r, "event_id")), json_string_value(json_object_get(r, "origin_topic")),
               json_string_value(json_object_get(r, "origin_partition")),
               json_string_value(json_object_get(r, "origin_offset")),
               json_string_value(json_object_get(r, "attempts")),
               (long long)json_integer_value(json_object_get(r, "bytes")),
               json_string_value(json_object_get(r, "error")));
    }
}

static int list(const struct hf_config *cfg, bool as_json)
{
    json_t *rows = NULL;
    struct hf_err err = { 0 };
    if (hf_dlq_list(cfg, &rows, &err)) {
        fprintf(stderr, "hfctl dlq list: %s\n", err.msg);
        return 1;
    }
    if (as_json) {
        print_json(rows);
    } else {
        printf("%-40s %-22s %8s\n", "topic", "pool", "records");
        size_t i;
        json_t *t;
        json_array_foreach(rows, i, t)
        {
            printf("%-40s %-22s %8lld\n", json_string_value(json_object_get(t, "topic")),
                   json_string_value(json_object_get(t, "pool")),
                   (long long)json_integer_value(json_object_get(t, "records")));
        }
    }
    json_decref(rows);
    return 0;
}

static int usage(void)
{
    fputs("usage: hfctl dlq list [--json]\n"
          "       hfctl dlq show POOL [--schema S] [--error TEXT] [--offset N] [--limit N] [--json]\n"
          "       hfctl dlq replay POOL [--schema S] [--error TEXT] [--offset N] [--limit N]\n"
          "                             [--dry-run | --yes] [--again] [--actor NAME] [--json]\n",
          stderr);
    return 2;
}

int hfctl_dlq(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    bool as_json = hfctl_flag(argc, argv, "--json");
    if (strcmp(argv[0], "list") == 0)
        return list(cfg, as_json);
    bool replay = strcmp(argv[0], "replay") == 0;
    if ((!replay && strcmp(argv[0], "show") != 0) || argc < 2 || argv[1][0] == '-')
        return usage();
    const char *off = hfctl_option(argc, argv, "--offset"), *lim = hfctl_option(argc, argv, "--limit");
    struct hf_dlq_filter f = { hfctl_option(argc, argv, "--schema"), hfctl_option(argc, argv, "--error"),
                               off ? strtoll(off, NULL, 10) : -1, lim ? (int)strtol(lim, NULL, 10) : 0 };
    enum hf_dlq_mode mode = HF_DLQ_SHOW;
    if (replay)
        mode = hfctl_flag(argc, argv, "--yes") && !hfctl_flag(argc, argv, "--dry-run") ? HF_DLQ_REPLAY
                                                                                          : HF_DLQ_DRY_RUN;
    const char *actor = hfctl_option(argc, argv, "--actor");
    if (!actor)
        actor = getenv("USER");
    char family[96], topic[160];
    snprintf(family, sizeof family, "dlq.%s", argv[1]);
    hf_config_topic(cfg, family, topic, sizeof topic);

    json_t *rows = NULL;
    int skipped = 0;
    struct hf_err err = { 0 };
    if (hf_dlq_run(cfg, argv[1], &f, mode, hfctl_flag(argc, argv, "--again"), actor, &rows, &skipped, &err)) {
        fprintf(stderr, "hfctl dlq %s: %s\n", argv[0], err.msg);
        return 1;
    }
    if (as_json)
        print_json(rows);
    else
        print_rows(rows);
    if (replay && !as_json)
        printf("%s %zu dead letter(s) from %s%s%s\n", mode == HF_DLQ_REPLAY ? "replayed" : "would replay",
               json_array_size(rows), topic, skipped ? " (skipped some already replayed; --again to replay them too)" : "",
               mode == HF_DLQ_REPLAY ? "" : "; add --yes to replay");
    else if (!replay && !as_json)
        printf("%zu dead letter(s) in %s\n", json_array_size(rows), topic);
    json_decref(rows);
    return 0;
}
