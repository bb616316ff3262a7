// A synthetic training loop logged with the Nereid C++ client.
//
//   export NEREID_URL=http://127.0.0.1:4870 NEREID_API_TOKEN=$(cat nereid-data/admin.token)
//   build/examples/cpp/train_loop            # or NEREID_MODE=offline, then `nereid sync`
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "nereid/nereid.h"

int main() {
  nereid::RunOptions options;
  options.name = "synthetic training loop";
  options.tags = {"example", "cpp"};
  options.on_error = [](const nereid::Status& s) {
    std::fprintf(stderr, "nereid: %s\n", s.message().c_str());
  };
  auto created = nereid::Run::Create(options);
  if (!created.ok()) {
    std::fprintf(stderr, "cannot start the run: %s\n", created.status().message().c_str());
    return 1;
  }
  nereid::Run run = std::move(created).value();

  run["params/lr"] = 0.001;
  run["params/batch_size"] = 64;
  run["params/optimizer"] = "adam";
  run["sys/tags"].Add({"synthetic"});

  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 0.02);
  auto loss = run["train/loss"];
  auto acc = run["train/accuracy"];
  const int kEpochs = 5, kStepsPerEpoch = 2000;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    for (int i = 0; i < kStepsPerEpoch; ++i) {
      double step = epoch * kStepsPerEpoch + i;
      loss.Append(2.5 * std::exp(-step / 3000.0) + noise(rng), step);
      acc.Append(1.0 - std::exp(-step / 2500.0) + noise(rng) / 2, step);
    }
    run["eval/accuracy"].Append(0.6 + 0.07 * epoch, epoch);
    run["logs/stdout"].Append("epoch " + std::to_string(epoch) + " done");
  }
  run["results/final_loss"] = 2.5 * std::exp(-(kEpochs * kStepsPerEpoch) / 3000.0);

  nereid::Status s = run.Stop();  // waits for the upload (at most stop_timeout)
  std::printf("run %s: %s\n", run.id().c_str(), s.ok() ? "uploaded" : s.message().c_str());
  return s.ok() ? 0 : 1;
}
