//===- Columns.cpp - feature columns, as the builder records them ---------===//

#include "frontend/Columns.h"

namespace lmc::frontend {

int64_t ColumnNode::width() const {
  int64_t elements = 1;
  for (int64_t dim : shape)
    elements *= dim;
  return elements;
}

int64_t ColumnNode::idSpace() const {
  switch (kind) {
  case ColumnKind::Bucketized:
    // Each element of a [k] source has its own range of ids.
    return (sequence ? 1 : width()) * (int64_t(boundaries.size()) + 1);
  case ColumnKind::Vocabulary:
    return int64_t(vocabulary.size()) + numOovBuckets;
  case ColumnKind::HashBucket:
  case ColumnKind::Identity:
  case ColumnKind::Crossed:
    return numBuckets;
  case ColumnKind::Weighted:
    return inputs.front()->idSpace();
  case ColumnKind::Numeric:
  case ColumnKind::Embedding:
  case ColumnKind::Indicator:
    return 0;
  }
  return 0;
}

} // namespace lmc::frontend
