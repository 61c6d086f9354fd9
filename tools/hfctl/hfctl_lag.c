/* hfctl lag [POOL|GROUP] [--json]: each consumer group's lag per partition,
 * asked of the broker (hf_admin), so it is right even with no pool running. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "hf_admin.h"
#include "hfctl.h"

static void print_json(const struct hf_lag_report *r)
{
    json_t *groups = json_array();
    for (size_t g = 0; g < r->n_groups; g++) {
        json_t *parts = json_array();
        for (size_t i = 0; i < r->n_parts; i++) {
            const struct hf_lag *p = &r->parts[i];
            if (strcmp(p->group, r->groups[g].group) == 0)
                json_array_append_new(parts, json_pack("{s:s, s:i, s:I, s:I, s:I, s:s}", "topic", p->topic,
                                                       "partition", (int)p->partition, "committed",
                                                       (json_int_t)p->committed, "end", (json_int_t)p->end, "lag",
                                                       (json_int_t)p->lag, "owner", p->owner));
        }
        json_array_append_new(groups, json_pack("{s:s, s:s, s:i, s:I, s:o}", "group", r->groups[g].group, "state",
                                                r->groups[g].state, "members", r->groups[g].members, "lag",
                                                (json_int_t)r->groups[g].lag, "partitions", parts));
    }
    json_t *doc = json_pack("{s:o}", "groups", groups);
    json_dumpf(doc, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(doc);
}

static void print_table(const struct hf_lag_report *r)
{
    if (r->n_groups == 0) {
        printf("no consumer groups\n");
        return;
    }
    for (size_t g = 0; g < r->n_groups; g++) {
        const struct hf_group *gr = &r->groups[g];
        printf("%s  state %s, %d member%s, lag %lld\n", gr->group, gr->state, gr->members, gr->members == 1 ? "" : "s",
               (long long)gr->lag);
        printf("  %-36s %9s %10s %10s %8s  %s\n", "topic", "partition", "committed", "end", "lag", "owner");
        for (size_t i = 0; i < r->n_parts; i++) {
            const struct hf_lag *p = &r->parts[i];
            if (strcmp(p->group, gr->group) != 0)
                continue;
            char committed[24];
            if (p->committed >= 0)
                snprintf(committed, sizeof committed, "%lld", (long long)p->committed);
            else
                snprintf(committed, sizeof committed, "-");
            printf("  %-36s %9d %10s %10lld %8lld  %s\n", p->topic, (int)p->partition, committed, (long long)p->end,
                   (long long)p->lag, p->owner[0] ? p->owner : "-");
        }
    }
}

int hfctl_lag(const struct hf_config *cfg, int argc, char **argv)
{
    const char *which = argc >= 1 && argv[0][0] != '-' ? argv[0] : NULL;
    char group[160];
    if (which && !strchr(which, '.')) { /* a pool's short name */
        char family[96];
        snprintf(family, sizeof family, "pool.%s", which);
        hf_config_topic(cfg, family, group, sizeof group);
        which = group;
    }
    struct hf_lag_report r;
    struct hf_err err = { 0 };
    if (hf_admin_lag(cfg, which, &r, &err)) {
        fprintf(stderr, "hfctl lag: %s\n", err.msg);
        return 1;
    }
    if (hfctl_flag(argc, argv, "--json"))
        print_json(&r);
    else
        print_table(&r);
    hf_lag_report_clear(&r);
    return 0;
}
