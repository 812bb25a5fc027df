/* embed.c - an application embedding the lmc runtime through its C API.
 *
 *   embed model.lmcpkg weights.safetensors < examples.jsonl
 *
 * Reads one JSON example per line, runs them all, prints each example's
 * first output. Builds against runtime/ alone (no compiler, no MLIR). */
#include "lmc/lmc.h"

#include <stdio.h>
#include <string.h>

static int report(lmc_status_t status) {
  fprintf(stderr, "embed: %s\n", lmc_status_message(status));
  lmc_status_release(status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s model.lmcpkg weights.safetensors < examples.jsonl\n", argv[0]);
    return 2;
  }
  lmc_model_t *model = NULL;
  lmc_examples_t *examples = NULL;
  lmc_results_t *results = NULL;
  lmc_status_t status = lmc_model_load(argv[1], &model);
  if (!status)
    status = lmc_model_load_weights(model, argv[2]);
  if (!status)
    status = lmc_examples_create(&examples);
  static char line[1 << 16];
  while (!status && fgets(line, sizeof line, stdin))
    if (strspn(line, " \t\r\n") != strlen(line))
      status = lmc_examples_add_json(examples, line);
  if (!status)
    status = lmc_model_run(model, examples, NULL, &results);
  for (size_t e = 0; !status && e < lmc_results_example_count(results); ++e) {
    const float *values;
    size_t count;
    status = lmc_results_get(results, e, 0, &values, &count);
    for (size_t i = 0; !status && i < count; ++i)
      printf("%s%g%s", i ? " " : "", values[i], i + 1 == count ? "\n" : "");
  }
  int code = status ? report(status) : 0;
  lmc_results_release(results);
  lmc_examples_release(examples);
  lmc_model_release(model);
  return code;
}
