//===- Columns.cpp - feature columns, as the builder records them ---------===//

#include "frontend/Columns.h"

namespace lmc::frontend {

int64_t ColumnNode::idSpace() const {
  switch (kind) {
  case ColumnKind::Bucketized:
    return int64_t(boundaries.size()) + 1;
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
