// Chapter 0: which thread a loop belongs to, and what happens when a thread
// breaks the rules.
#include <unistd.h>

#include <cstdio>
#include <future>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "reactor/EventLoop.h"

namespace {

using reactor::EventLoop;

TEST(ThreadIdentityTest, ThreadWithoutALoopHasNone) {
  EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), nullptr);
}

TEST(ThreadIdentityTest, OwnerThreadIsTheLoopThread) {
  EventLoop loop;
  EXPECT_TRUE(loop.isInLoopThread());
  EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), &loop);
  loop.assertInLoopThread();  // must not abort
}

TEST(ThreadIdentityTest, AnotherThreadIsNotTheLoopThread) {
  EventLoop loop;
  bool inLoopThread = true;
  EventLoop* loopOfOtherThread = &loop;
  std::thread other([&] {
    inLoopThread = loop.isInLoopThread();
    loopOfOtherThread = EventLoop::getEventLoopOfCurrentThread();
  });
  other.join();
  EXPECT_FALSE(inLoopThread);
  EXPECT_EQ(loopOfOtherThread, nullptr);
}

TEST(ThreadIdentityTest, EachThreadSeesItsOwnLoop) {
  EventLoop loop;
  // The other thread keeps its loop alive until the test has looked at it.
  std::promise<EventLoop*> created;
  std::promise<void> release;
  bool otherSeesItsOwn = false;
  bool ownerLoopIsInOtherThread = true;
  std::thread other([&] {
    EventLoop otherLoop;
    otherSeesItsOwn = EventLoop::getEventLoopOfCurrentThread() == &otherLoop &&
                      otherLoop.isInLoopThread() && !loop.isInLoopThread();
    ownerLoopIsInOtherThread = loop.isInLoopThread();
    created.set_value(&otherLoop);
    release.get_future().wait();
  });
  EventLoop* otherLoop = created.get_future().get();
  EXPECT_NE(otherLoop, &loop);
  EXPECT_FALSE(otherLoop->isInLoopThread());
  EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), &loop);
  release.set_value();
  other.join();
  EXPECT_TRUE(otherSeesItsOwn);
  EXPECT_FALSE(ownerLoopIsInOtherThread);
}

TEST(ThreadIdentityTest, ThreadMayCreateANewLoopAfterTheOldOneIsDestroyed) {
  {
    EventLoop first;
    EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), &first);
  }
  EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), nullptr);
  EventLoop second;  // must not abort
  EXPECT_EQ(EventLoop::getEventLoopOfCurrentThread(), &second);
  EXPECT_TRUE(second.isInLoopThread());
}

// Death statements run in a child process: the threadsafe style re-runs the
// test binary up to the statement. The parent cannot know the child's thread
// ids, so the statement prints them before it breaks a rule, and the matcher
// checks that the abort message names those very threads.
void announceThread(const char* role) {
  std::fprintf(stderr, "[test: %s thread %d]\n", role, static_cast<int>(::gettid()));
}

// Matches a death message against a regex in which {owner} and {caller}
// stand for the thread ids that the death statement announced.
class NamesThreads : public testing::MatcherInterface<const std::string&> {
 public:
  explicit NamesThreads(std::string pattern) : pattern_(std::move(pattern)) {}

  bool MatchAndExplain(const std::string& output,
                       testing::MatchResultListener* listener) const override {
    std::string regex = pattern_;
    for (const char* role : {"owner", "caller"}) {
      const std::string placeholder = std::string("{") + role + "}";
      const std::string::size_type at = regex.find(placeholder);
      if (at == std::string::npos) continue;
      const std::string id = announced(output, role);
      if (id.empty()) {
        *listener << "the statement announced no " << role << " thread";
        return false;
      }
      regex.replace(at, placeholder.size(), id);
    }
    *listener << "with the threads filled in, the regex is " << regex << "; ";
    const testing::Matcher<const std::string&> contains = testing::ContainsRegex(regex);
    return contains.MatchAndExplain(output, listener);
  }

  void DescribeTo(std::ostream* os) const override {
    *os << "contains regex " << pattern_ << ", {owner} and {caller} being the announced threads";
  }

 private:
  static std::string announced(const std::string& output, const std::string& role) {
    const std::string announcement = "[test: " + role + " thread ";
    const std::string::size_type at = output.find(announcement);
    if (at == std::string::npos) return std::string();
    const std::string::size_type begin = at + announcement.size();
    return output.substr(begin, output.find_first_not_of("0123456789", begin) - begin);
  }

  std::string pattern_;
};

// The message of a loop-owned call made from a thread other than the owner.
testing::Matcher<const std::string&> wrongThreadMessage(const std::string& function) {
  return testing::MakeMatcher(new NamesThreads(
      function +
      ": called from thread {caller}, but EventLoop 0x[0-9a-f]+ belongs to thread {owner}[^0-9]"));
}

TEST(EventLoopDeathTest, SecondLoopInOneThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop first;
        announceThread("owner");
        EventLoop second;
      },
      testing::MakeMatcher(new NamesThreads("EventLoop::EventLoop: .*thread {owner}[^0-9]")));
}

TEST(EventLoopDeathTest, LoopFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        announceThread("owner");
        std::thread other([&loop] {
          announceThread("caller");
          loop.quit();  // if loop() failed to abort, it returns: "failed to die", no hang
          loop.loop();
        });
        other.join();
      },
      wrongThreadMessage("EventLoop::loop"));
}

TEST(EventLoopDeathTest, AssertInLoopThreadFromAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        announceThread("owner");
        std::thread other([&loop] {
          announceThread("caller");
          loop.assertInLoopThread();
        });
        other.join();
      },
      wrongThreadMessage("EventLoop::assertInLoopThread"));
}

TEST(EventLoopDeathTest, DestroyingALoopInAnotherThreadAborts) {
  EXPECT_DEATH(
      {
        auto loop = std::make_unique<EventLoop>();
        announceThread("owner");
        std::thread other([&loop] {
          announceThread("caller");
          loop.reset();
        });
        other.join();
      },
      wrongThreadMessage("EventLoop::~EventLoop"));
}

TEST(EventLoopDeathTest, DestroyingALoopInsideItsOwnLoopAborts) {
  EXPECT_DEATH(
      {
        auto* loop = new EventLoop;
        loop->queueInLoop([loop] { delete loop; });
        loop->loop();
      },
      "EventLoop::~EventLoop: EventLoop 0x[0-9a-f]+ is destroyed inside its own loop\\(\\)");
}

}  // namespace
