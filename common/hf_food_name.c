#include "hf_food_name.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "hf_utf8.h"

int hf_food_name_normalise(const char *in, char out[HF_FOOD_NAME_MAX + 1], struct hf_err *err)
{
    size_t len = strlen(in);
    for (size_t i = 0, n; i < len; i += n)
        if (!(n = hf_utf8_seq((const unsigned char *)in + i, len - i)))
            return hf_err_field(err, HF_EINVAL, "name", "ingredient name is not valid UTF-8");
    size_t n = 0;
    bool space = false;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        bool keep = *p >= 0x80 || isalnum(*p);
        if (!keep) {
            space = n > 0;
            continue;
        }
        if (n + (space ? 2 : 1) > HF_FOOD_NAME_MAX)
            return hf_err_field(err, HF_EINVAL, "name", "ingredient name is longer than %d characters once normalised",
                                HF_FOOD_NAME_MAX);
        if (space)
            out[n++] = ' ';
        space = false;
        out[n++] = (char)(*p < 0x80 ? tolower(*p) : *p);
    }
    out[n] = '\0';
    if (n == 0)
        return hf_err_field(err, HF_EINVAL, "name", "ingredient name has no letters or digits");
    return 0;
}
