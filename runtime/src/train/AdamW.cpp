// AdamW.cpp - dense and lazy row updates over owned ranges (see AdamW.h).

#include "train/AdamW.h"

#include "cpu/KernelContext.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace lmc::rt {

AdamW::AdamW(AdamWSettings settings, std::vector<std::pair<int64_t, int64_t>> ranges)
    : settings(settings), owned(std::move(ranges)) {
  for (auto [begin, end] : owned) {
    m.emplace_back(size_t(end - begin), 0.0f);
    v.emplace_back(size_t(end - begin), 0.0f);
  }
}

void AdamW::beginStep(int64_t step, double rate) {
  learningRate = rate;
  correction1 = 1 - std::pow(settings.beta1, double(step));
  correction2 = 1 - std::pow(settings.beta2, double(step));
}

int64_t AdamW::stateBytes() const {
  int64_t bytes = 0;
  for (const std::vector<float> &moment : m)
    bytes += 2 * int64_t(moment.size() * sizeof(float));
  return bytes;
}

void AdamW::update(float *value, float *mi, float *vi, const float *gradient, int64_t count,
                   float unscale) const {
  const double b1 = settings.beta1, b2 = settings.beta2;
  const double decay = 1 - learningRate * settings.weightDecay;
  const double stepSize = learningRate / correction1, rootCorrection2 = std::sqrt(correction2);
  for (int64_t i = 0; i < count; ++i) {
    double g = double(gradient[i]) * unscale;
    double first = b1 * mi[i] + (1 - b1) * g, second = b2 * vi[i] + (1 - b2) * g * g;
    mi[i] = float(first);
    vi[i] = float(second);
    double denominator = std::sqrt(second) / rootCorrection2 + settings.epsilon;
    value[i] = float(double(value[i]) * decay - stepSize * first / denominator);
  }
}

void AdamW::applyDense(size_t parameter, float *value, const float *gradient, float unscale) {
  float *mp = m[parameter].data(), *vp = v[parameter].data();
  int64_t count = owned[parameter].second - owned[parameter].first;
  cpu::parallelFor(count, 16, [&](int64_t begin, int64_t end) {
    update(value + begin, mp + begin, vp + begin, gradient + begin, end - begin, unscale);
  });
}

void AdamW::applyRows(size_t parameter, float *table, int64_t rows, int64_t width,
                      const std::vector<RowGradient> &parts, float unscale) {
  auto [begin, end] = owned[parameter];
  // Sum the rows of each id over every part first: a row is updated once.
  std::map<int64_t, std::vector<float>> summed;
  for (const RowGradient &part : parts)
    for (size_t i = 0; i < part.ids.size(); ++i) {
      int64_t id = part.ids[i];
      if (id < 0 || id >= rows || (id + 1) * width <= begin || id * width >= end)
        continue;
      std::vector<float> &row = summed[id];
      row.resize(size_t(width), 0.0f);
      for (int64_t d = 0; d < width; ++d)
        row[size_t(d)] += part.values[i * size_t(width) + size_t(d)];
    }
  for (auto &[id, gradient] : summed) {
    // The row's elements this rank owns.
    int64_t first = std::max(begin, id * width), last = std::min(end, (id + 1) * width);
    update(table + first, m[parameter].data() + (first - begin),
           v[parameter].data() + (first - begin), gradient.data() + (first - id * width),
           last - first, unscale);
  }
}

} // namespace lmc::rt
