// Envelope.cpp - length and CRC-32 around an artifact's flatbuffer.

#include "artifact/Envelope.h"

#include <cstring>
#include <zlib.h>

namespace lmc::rt {
namespace {

constexpr char kMagic[8] = {'L', 'M', 'C', 'P', 'K', 'G', '\r', '\n'};

uint32_t checksum(const uint8_t *data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes lengths as uInt; feed large payloads in pieces.
  while (size > 0) {
    uInt piece = uInt(size > (1u << 30) ? (1u << 30) : size);
    crc = crc32(crc, data, piece);
    data += piece;
    size -= piece;
  }
  return uint32_t(crc);
}

uint64_t readLE(const uint8_t *p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

void writeLE(std::string &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(char((value >> (8 * i)) & 0xff));
}

} // namespace

std::string wrapArtifact(const uint8_t *payload, size_t size) {
  std::string out(kMagic, sizeof(kMagic));
  writeLE(out, size, 8);
  writeLE(out, checksum(payload, size), 4);
  writeLE(out, 0, 4);
  out.append(reinterpret_cast<const char *>(payload), size);
  return out;
}

bool unwrapArtifact(const uint8_t *data, size_t size, const uint8_t *&payload,
                    size_t &payloadSize, std::string &error) {
  if (size < kEnvelopeBytes || std::memcmp(data, kMagic, sizeof(kMagic)) != 0) {
    error = "not an lmc package (no LMCPKG header)";
    return false;
  }
  uint64_t length = readLE(data + 8, 8);
  if (length != size - kEnvelopeBytes) {
    error = "the package is truncated or has trailing bytes: its header promises " +
            std::to_string(length) + " bytes of payload, the file holds " +
            std::to_string(size - kEnvelopeBytes);
    return false;
  }
  payload = data + kEnvelopeBytes;
  payloadSize = size_t(length);
  if (uint32_t(readLE(data + 16, 4)) != checksum(payload, payloadSize)) {
    error = "the package is corrupt (its CRC-32 does not match)";
    return false;
  }
  return true;
}

} // namespace lmc::rt
