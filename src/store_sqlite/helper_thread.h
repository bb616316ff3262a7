// A persistent thread that lends a second core to a read: the caller posts a task, works on the
// same job list itself, and then either withdraws the task (the helper never started it) or
// waits for the helper to finish it. Spawning a thread per request instead cost more than the
// work it shared: a fresh stack, and a malloc arena whose pages fault in anew every time.
//
// Thread-safety: Share may be called from any number of threads at once; tasks run one at a time.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace nereid::store_sqlite {

class HelperThread {
 public:
  HelperThread();
  ~HelperThread();
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;

  // Runs `work` on the calling thread and, if the helper is free soon enough, on the helper at
  // the same time; returns when no thread runs it any more. `work` must be safe to run twice at
  // once (e.g. both take jobs from one atomic counter) and must be fine run only once.
  void Share(const std::function<void()>& work);

 private:
  struct Task;
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nereid::store_sqlite
