// Safetensors.h - reading and writing weights in the safetensors format
// (an 8-byte little-endian header size, a JSON header of
// name -> {dtype, shape, data_offsets}, then the raw little-endian bytes).

#ifndef LMC_RUNTIME_WEIGHTS_SAFETENSORS_H
#define LMC_RUNTIME_WEIGHTS_SAFETENSORS_H

#include "Status.h"
#include "cpu/Tensor.h"
#include "io/AtomicFile.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lmc::rt {

/// The lmc element type of a safetensors dtype name ("F32", "BF16", ...).
bool dtypeFromSafetensors(const std::string &name, DType &dtype);
const char *safetensorsName(DType dtype);

/// Reads every tensor of `path`. The file is mapped (io/MappedFile.h) and a
/// tensor whose data is aligned to its element size points into the
/// mapping (no copy; writes to it stay private to the process); others are
/// copied. Fails, with a message naming the file and the tensor, on a
/// malformed header, an unknown dtype or data outside the file.
bool readSafetensors(const std::string &path, std::map<std::string, cpu::Tensor> &tensors,
                     rt::Status &error);

/// readSafetensors of a file's bytes; `where` names it in messages. Besides
/// the header and offsets it checks what the reference implementation
/// does: shapes of at most 2^40 elements, tensors that tile the data
/// exactly (no overlap, no gap, no trailing bytes).
bool parseSafetensors(const std::string &bytes, const std::string &where,
                      std::map<std::string, cpu::Tensor> &tensors, rt::Status &error);
/// The same over `size` bytes at `data`; with an `owner` of those bytes,
/// aligned tensors alias them (and keep `owner` alive) instead of copying.
bool parseSafetensors(const uint8_t *data, size_t size, const std::shared_ptr<uint8_t[]> &owner,
                      const std::string &where, std::map<std::string, cpu::Tensor> &tensors,
                      rt::Status &error);

struct TensorHeader {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};
/// Writes tensor `i`'s bytes (as its header says) to `out`.
using TensorWriter = std::function<bool(size_t i, OutputFile &out, rt::Status &error)>;

/// Writes tensors described by `headers` to `path`, their data produced one
/// at a time by `writeData`, so a file larger than memory can be written
/// (through an OutputFile: whole or not at all).
bool writeSafetensors(const std::string &path, const std::vector<TensorHeader> &headers,
                      const TensorWriter &writeData, rt::Status &error);

/// Writes `tensors` in the given order to `path` through a temporary file
/// renamed into place, so a failure never leaves a partial file.
bool writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, cpu::Tensor>> &tensors,
                      rt::Status &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_WEIGHTS_SAFETENSORS_H
