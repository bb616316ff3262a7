#include "store_sqlite/helper_thread.h"

namespace nereid::store_sqlite {

struct HelperThread::Task {
  const std::function<void()>* work = nullptr;
  enum class State { kQueued, kRunning, kDone, kWithdrawn } state = State::kQueued;
  std::condition_variable done;
};

HelperThread::HelperThread() : thread_([this] { Loop(); }) {}

HelperThread::~HelperThread() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HelperThread::Share(const std::function<void()>& work) {
  auto task = std::make_shared<Task>();
  task->work = &work;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(task);
  }
  cv_.notify_all();
  work();
  std::unique_lock lock(mu_);
  if (task->state == Task::State::kQueued) {
    task->state = Task::State::kWithdrawn;  // the helper will drop it unrun
    return;
  }
  task->done.wait(lock, [&] { return task->state == Task::State::kDone; });
}

void HelperThread::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::shared_ptr<Task> task = std::move(queue_.front());
    queue_.pop_front();
    if (task->state == Task::State::kWithdrawn) continue;
    task->state = Task::State::kRunning;
    lock.unlock();
    (*task->work)();
    lock.lock();
    task->state = Task::State::kDone;
    task->done.notify_all();
  }
}

}  // namespace nereid::store_sqlite
