/* The main() of every pool binary: HF_POOL_DEF names the pool's definition. */
#include "hf_runtime.h"

extern const struct hf_pool_def HF_POOL_DEF;

int main(int argc, char **argv)
{
    return hf_pool_main(&HF_POOL_DEF, argc, argv);
}
