/* lmc/fingerprint.h - how raw feature values become the i64 values that
 * lmc's feature-column ops consume, bit for bit as TensorFlow computes them.
 *
 * Strings are fingerprinted once, on the host, with FarmHash Fingerprint64
 * (TensorFlow's string_to_hash_bucket_fast and sparse_cross_hashed use the
 * same function). Integers fed to hash-bucket and vocabulary columns are
 * fingerprinted as their decimal strings, as TensorFlow's as_string + hash
 * does. Crosses chain FingerprintCat64 over one value per feature, starting
 * from a hash key: a string feature contributes its Fingerprint64, an
 * integer feature its own value, unhashed (TensorFlow's sparse_cross_hashed
 * does exactly this). All functions are pure and thread-safe. */

#ifndef LMC_FINGERPRINT_H
#define LMC_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TensorFlow's default hash key of crossed columns and sparse_cross_hashed. */
#define LMC_DEFAULT_CROSS_HASH_KEY UINT64_C(0xDECAFCAFFE)

/* A value an example does not hold. TensorFlow parses a categorical feature
 * as a variable-length list; lmc gives it a fixed width and marks the slots
 * an example leaves empty (all of them when the feature is missing) with
 * this id, which lies outside every table (embeddings and indicators skip
 * it) and makes every cross combination it takes part in absent too. */
#define LMC_ABSENT_ID INT64_MIN

/* FarmHash Fingerprint64 of `size` bytes at `data` (UTF-8 for strings). */
uint64_t lmc_fingerprint64(const char *data, size_t size);

/* Fingerprint64 of the decimal representation of `value` ("-42"). */
uint64_t lmc_fingerprint64_of_int(int64_t value);

/* TensorFlow's FingerprintCat64: combines two fingerprints; not commutative. */
uint64_t lmc_fingerprint_cat64(uint64_t first, uint64_t second);

/* The bucket of one cross: FingerprintCat64 chained from `hash_key` over
 * `count` per-feature values in order, modulo `num_buckets`. A
 * `num_buckets` of 0 means "no buckets" and, as in TensorFlow, reduces
 * modulo INT64_MAX so the result fits an int64. */
uint64_t lmc_cross_bucket(const uint64_t *fingerprints, size_t count,
                          uint64_t hash_key, uint64_t num_buckets);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LMC_FINGERPRINT_H */
