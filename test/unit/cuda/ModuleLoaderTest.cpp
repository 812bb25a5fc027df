// ModuleLoaderTest.cpp - where a kernel's module comes from: the cubin for
// the device's architecture, else NVRTC output through the on-disk cache
// (a second load compiles nothing; another driver version compiles again),
// else PTX; and the error when nothing fits.

#include "emulator/EmulatedDevice.h"

#include "cuda/ModuleLoader.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <stdlib.h>

namespace {

namespace rt = ::lmc::rt;
using lmc::cuda::ModuleSource;

/// The images the driver was asked to load, in order.
std::vector<std::string> loaded;

CUresult CUDAAPI recordImage(CUmodule *module, const void *image) {
  loaded.emplace_back(static_cast<const char *>(image), 4);
  static int token;
  *module = reinterpret_cast<CUmodule>(&token);
  return CUDA_SUCCESS;
}

lmc::cuda::Driver recordingDriver() {
  lmc::cuda::Driver driver = *lmc::testing::emulatedDriver();
  driver.cuModuleLoadData = recordImage;
  driver.loadsSource = false;
  return driver;
}

rt::Kernel kernelWithSource() {
  rt::Kernel kernel;
  kernel.name = "k0";
  kernel.source = "extern \"C\" __global__ void k0_s0(float *x) { x[threadIdx.x] = 1.0f; }\n";
  return kernel;
}

size_t filesIn(const std::string &directory) {
  size_t count = 0;
  if (DIR *dir = opendir(directory.c_str())) {
    while (dirent *entry = readdir(dir))
      count += entry->d_name[0] != '.';
    closedir(dir);
  }
  return count;
}

class ModuleLoader : public ::testing::Test {
protected:
  void SetUp() override {
    char path[] = "/tmp/lmc-cache-test-XXXXXX";
    cache = std::string(mkdtemp(path)) + "/nested/cache";
    loaded.clear();
  }
  std::string cache;
  lmc::cuda::Driver driver = recordingDriver();
};

TEST_F(ModuleLoader, CompilesTheSourceOnceThenReadsTheCache) {
  rt::Kernel kernel = kernelWithSource();
  CUmodule module;
  ModuleSource source;
  rt::Status error;
  ASSERT_TRUE(lmc::cuda::loadModule(driver, kernel, 90, 13000, cache, module, source, error))
      << error;
  EXPECT_EQ(source, ModuleSource::Nvrtc);
  EXPECT_EQ(filesIn(cache), 1u);
  ASSERT_TRUE(lmc::cuda::loadModule(driver, kernel, 90, 13000, cache, module, source, error));
  EXPECT_EQ(source, ModuleSource::Cache) << "a second load compiles nothing";
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0], std::string("\x7f" "ELF", 4)) << "NVRTC's output is a cubin";
  EXPECT_EQ(loaded[1], loaded[0]);
  // Another driver version or architecture is another key.
  ASSERT_TRUE(lmc::cuda::loadModule(driver, kernel, 90, 13010, cache, module, source, error));
  EXPECT_EQ(source, ModuleSource::Nvrtc);
  ASSERT_TRUE(lmc::cuda::loadModule(driver, kernel, 80, 13000, cache, module, source, error));
  EXPECT_EQ(source, ModuleSource::Nvrtc);
  EXPECT_EQ(filesIn(cache), 3u);
}

TEST_F(ModuleLoader, PrefersTheCubinForTheDevice) {
  rt::Kernel kernel = kernelWithSource();
  kernel.binaries = {{"sm_80", "cubin", "CUB8"}, {"sm_90", "cubin", "CUB9"}};
  CUmodule module;
  ModuleSource source;
  rt::Status error;
  ASSERT_TRUE(lmc::cuda::loadModule(driver, kernel, 90, 13000, cache, module, source, error));
  EXPECT_EQ(source, ModuleSource::Cubin);
  EXPECT_EQ(loaded.back(), "CUB9");
  EXPECT_EQ(filesIn(cache), 0u);
}

TEST_F(ModuleLoader, FallsBackToPtxWithoutSource) {
  rt::Kernel kernel;
  kernel.name = "k1";
  kernel.binaries = {{"compute_80", "ptx", "PTX8"}, {"compute_90", "ptx", "PTX9"}};
  CUmodule module;
  ModuleSource source;
  rt::Status error;
  ASSERT_TRUE(lmc::cuda::loadModule(driver, kernel, 86, 13000, cache, module, source, error));
  EXPECT_EQ(source, ModuleSource::Ptx);
  EXPECT_EQ(loaded.back(), "PTX8") << "the newest PTX the device can run";
  EXPECT_FALSE(lmc::cuda::loadModule(driver, kernel, 75, 13000, cache, module, source, error));
  EXPECT_EQ(error.message(),
            "kernel 'k1' has no code for sm_75 (recompile the model with --target=sm_75)");
}

} // namespace
