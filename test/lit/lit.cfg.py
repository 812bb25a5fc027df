# lit settings for lmc's FileCheck tests. Run through ctest (`make test`) or
# directly: python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv build/test/lit
import os

import lit.formats

config.name = "lmc"
# External shell (bash): RUN lines may use loops over the examples.
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.lmc_obj_root
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "Inputs"]

# lmc's tools first, then FileCheck, not and count from LLVM.
config.environment["PATH"] = os.pathsep.join(
    [config.lmc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])]
)
# OpenBLAS picks its GEMM kernels by processor, which changes the last digits
# of the CPU backend's outputs. `make test` runs the numeric tests again with
# the kernel family forced (test/lit/CMakeLists.txt): lit passes a variable to
# a test only when told to, so these are passed through, and the forced family
# becomes a feature and a substitution that blas-kernels.test checks.
for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    if variable in os.environ:
        config.environment[variable] = os.environ[variable]
forced = os.environ.get("OPENBLAS_CORETYPE")
config.substitutions.append(("%blas_kernels", "FORCED" if forced else "DEFAULT"))
config.substitutions.append(("%blas_coretype", forced or "none"))
config.substitutions.append(("%compare_jsonl", "python3 " + os.path.join(
    config.lmc_source_dir, "test", "support", "compare_jsonl.py")))
config.substitutions.append(("%examples", os.path.join(config.lmc_source_dir, "examples")))
config.substitutions.append(("%dialect_doc", os.path.join(config.lmc_source_dir, "docs", "dialect.md")))

# Sharded training runs under Open MPI's mpirun, which `make` installs (as
# root on CI machines, which mpirun refuses unless told otherwise; two ranks
# on a 2-core machine).
config.substitutions.append(
    ("%mpirun", "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                "mpirun --oversubscribe"))
config.substitutions.append(("%support", os.path.join(config.lmc_source_dir, "test", "support")))
