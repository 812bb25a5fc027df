// AdamW.cpp - dense and lazy row updates (see AdamW.h).

#include "train/AdamW.h"

#include "cpu/KernelContext.h"

#include <cmath>
#include <map>

namespace lmc::rt {

AdamW::AdamW(AdamWSettings settings, const std::vector<cpu::Tensor> &parameters)
    : settings(settings) {
  for (const cpu::Tensor &parameter : parameters)
    moments.push_back({std::vector<float>(size_t(parameter.numElements()), 0.0f),
                       std::vector<float>(size_t(parameter.numElements()), 0.0f)});
}

void AdamW::beginStep(int64_t step, double rate) {
  learningRate = rate;
  correction1 = 1 - std::pow(settings.beta1, double(step));
  correction2 = 1 - std::pow(settings.beta2, double(step));
}

void AdamW::update(float *value, float *m, float *v, const float *gradient, int64_t count,
                   float unscale) const {
  const double b1 = settings.beta1, b2 = settings.beta2;
  const double decay = 1 - learningRate * settings.weightDecay;
  const double stepSize = learningRate / correction1, rootCorrection2 = std::sqrt(correction2);
  for (int64_t i = 0; i < count; ++i) {
    double g = double(gradient[i]) * unscale;
    double mi = b1 * m[i] + (1 - b1) * g, vi = b2 * v[i] + (1 - b2) * g * g;
    m[i] = float(mi);
    v[i] = float(vi);
    double denominator = std::sqrt(vi) / rootCorrection2 + settings.epsilon;
    value[i] = float(double(value[i]) * decay - stepSize * mi / denominator);
  }
}

void AdamW::applyDense(size_t parameter, cpu::Tensor &value, const cpu::Tensor &gradient,
                       float unscale) {
  AdamWState &state = moments[parameter];
  int64_t count = value.numElements();
  cpu::parallelFor(count, 16, [&](int64_t begin, int64_t end) {
    update(value.as<float>() + begin, state.m.data() + begin, state.v.data() + begin,
           gradient.as<float>() + begin, end - begin, unscale);
  });
}

void AdamW::applyRows(size_t parameter, cpu::Tensor &table,
                      const std::vector<std::pair<const cpu::Tensor *, const cpu::Tensor *>> &parts,
                      float unscale) {
  AdamWState &state = moments[parameter];
  int64_t rows = table.shape[0], width = table.shape[1];
  // Sum the rows of each id over every part first: a row is updated once.
  std::map<int64_t, std::vector<float>> summed;
  for (auto [indices, values] : parts)
    for (int64_t i = 0; i < indices->numElements(); ++i) {
      int64_t id = cpu::integerAt(*indices, i);
      if (id < 0 || id >= rows)
        continue;
      std::vector<float> &row = summed[id];
      row.resize(size_t(width), 0.0f);
      const float *from = values->as<float>() + i * width;
      for (int64_t d = 0; d < width; ++d)
        row[size_t(d)] += from[d];
    }
  for (auto &[id, gradient] : summed)
    update(table.as<float>() + id * width, state.m.data() + id * width,
           state.v.data() + id * width, gradient.data(), width, unscale);
}

} // namespace lmc::rt
