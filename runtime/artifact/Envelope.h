// Envelope.h - the bytes around the flatbuffer in a .lmcpkg file.
//
//   offset  0: "LMCPKG\r\n"     magic (the \r\n catches text-mode mangling)
//   offset  8: uint64 LE        payload length
//   offset 16: uint32 LE        CRC-32 (zlib) of the payload
//   offset 20: uint32           zero
//   offset 24: payload          the flatbuffer (runtime/artifact/lmcpkg.fbs)
//
// The length catches truncation and the checksum any flipped byte, before
// the flatbuffers verifier and lmc's structural checks see the payload.

#ifndef LMC_RUNTIME_ARTIFACT_ENVELOPE_H
#define LMC_RUNTIME_ARTIFACT_ENVELOPE_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace lmc::rt {

constexpr size_t kEnvelopeBytes = 24;

/// The file bytes for `payload`.
std::string wrapArtifact(const uint8_t *payload, size_t size);

/// Finds the payload in a file's bytes; false with `error` set when the
/// file is not an artifact, is truncated or fails its checksum.
bool unwrapArtifact(const uint8_t *data, size_t size, const uint8_t *&payload,
                    size_t &payloadSize, std::string &error);

} // namespace lmc::rt

#endif // LMC_RUNTIME_ARTIFACT_ENVELOPE_H
