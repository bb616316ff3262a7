// When a busy run sends its next batch: the flush period, stretched or shrunk by up to a tenth at
// random. Runs started together (a sweep, the ranks of one job) would otherwise send in lockstep,
// every one of them in the same instant of every period, and the server would see a burst of
// requests followed by silence instead of an even stream (docs/client.md, "Sending").
#pragma once

#include <chrono>
#include <random>

namespace nereid::client {

// How far a period may move either way, as a fraction of it.
inline constexpr double kSendJitter = 0.1;

// `period` times a factor drawn uniformly from [1 - kSendJitter, 1 + kSendJitter].
template <class Rng>
std::chrono::microseconds JitteredPeriod(std::chrono::milliseconds period, Rng& rng) {
  std::uniform_real_distribution<double> factor(1.0 - kSendJitter, 1.0 + kSendJitter);
  const double us = std::chrono::duration<double, std::micro>(period).count() * factor(rng);
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(us));
}

}  // namespace nereid::client
