// The state file: what a restart needs of the last cycle (drains in progress, a reload not done yet).
#include "daemon/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/process.h"

namespace hasg::daemon {
namespace {

core::SyncState sample() {
  core::SyncState s;
  s.drains["app/i-1"] = core::DrainRecord{core::TimePoint(std::chrono::milliseconds(1'700'000'000'123))};
  s.drains["web/i-2"] = core::DrainRecord{core::TimePoint(std::chrono::milliseconds(1'700'000'100'000))};
  s.reload_pending = true;
  s.hooks["app/drain/i-1"] = core::HookWait{"app", "drain", "terminating",
                                            core::TimePoint(std::chrono::milliseconds(1'700'000'000'000)),
                                            core::TimePoint(std::chrono::milliseconds(1'700'000'030'000)), true};
  s.down_since["app/i-3"] = core::TimePoint(std::chrono::milliseconds(1'700'000'050'000));
  s.reported = {"app/i-4"};
  return s;
}

TEST(StateFile, RoundTripsThroughJson) {
  std::vector<std::string> warnings;
  auto back = state_from_json(state_to_json(sample()), warnings);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, sample());
  EXPECT_TRUE(warnings.empty());
}

TEST(StateFile, SkipsEntriesItCannotUseAndRefusesForeignText) {
  std::vector<std::string> warnings;
  auto s = state_from_json(R"({"drains": {"app/i-1": 5, "app/i-2": "soon"}})", warnings);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->drains.size(), 1u);
  EXPECT_FALSE(s->reload_pending);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("app/i-2"), std::string::npos);
  // Fields of the wrong type are not taken (and never throw).
  auto odd = state_from_json(R"({"drains": {}, "reload_pending": "yes", "hooks": {"g/h/i-1": {"group": "g",
      "hook": "h", "transition": "terminating", "since": 1, "last_beat": 2, "completed": "no"}, "g/h/i-2": 7}})",
                             warnings);
  ASSERT_TRUE(odd.ok());
  EXPECT_FALSE(odd->reload_pending);
  ASSERT_EQ(odd->hooks.size(), 1u);
  EXPECT_FALSE(odd->hooks.begin()->second.completed);
  EXPECT_FALSE(state_from_json("[1, 2]", warnings).ok());
  EXPECT_FALSE(state_from_json("not json", warnings).ok());
}

// Found with the state_file fuzz target (fuzz/regressions/state_file/): a time past what the clock's 64-bit
// nanoseconds hold overflowed on conversion (undefined behaviour, caught by UBSan). Such entries are skipped now.
TEST(StateFile, TimesNoClockGivesAreSkipped) {
  std::vector<std::string> warnings;
  auto s = state_from_json(
      R"({"drains": {"app/i-1": 9223372036854775807, "app/i-2": -1, "app/i-3": 9223372036854,
                     "app/i-4": 9223372036855, "app/i-5": 253402300799999},
          "hooks": {"g/h/i-1": {"group": "g", "hook": "h", "transition": "terminating",
                                "since": -9223372036854775808, "last_beat": 18446744073709551615}},
          "down_since": {"app/i-1": 9223372036854775807, "app/i-3": 1}})",
      warnings);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->drains.size(), 1u);
  // 2262-04-11T23:47:16.854Z is the last millisecond the clock holds; one more, or the year 9999, overflows.
  EXPECT_EQ(s->drains.begin()->first, "app/i-3");
  EXPECT_TRUE(s->hooks.empty());
  ASSERT_EQ(s->down_since.size(), 1u);
  EXPECT_EQ(s->down_since.begin()->first, "app/i-3");
  EXPECT_EQ(warnings.size(), 5u);  // four drains and the hook record
}

// A time after now is read as now, in whole milliseconds as the file holds them: written and read again, the state
// is the same (a restart never changes the books by itself).
TEST(StateFile, ATimeAfterNowIsNowAndStaysSoThroughAWrite) {
  std::vector<std::string> warnings;
  const auto before = core::Clock::now();
  auto s = state_from_json(R"({"drains": {"app/i-1": 7664112000000}, "down_since": {"app/i-2": 7664112000000}})",
                           warnings);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->drains.size(), 1u);
  const core::TimePoint t = s->drains.begin()->second.since;
  EXPECT_GE(t, std::chrono::floor<std::chrono::milliseconds>(before));
  EXPECT_LE(t, core::Clock::now());
  EXPECT_EQ(t, std::chrono::floor<std::chrono::milliseconds>(t));
  auto again = state_from_json(state_to_json(*s), warnings);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *s);
  EXPECT_TRUE(warnings.empty());
}

TEST(StateFile, SavedStateIsLoadedAfterARestart) {
  test::TempDir dir;
  const std::string path = dir.file("state.json");
  {
    StateFile f(path);
    EXPECT_EQ(f.load(), core::SyncState{}) << "no file yet: an empty state";
    EXPECT_TRUE(f.save(sample()).ok());
  }
  StateFile again(path);
  EXPECT_EQ(again.load(), sample());
  // Saving what is already there writes nothing (an atomic write would replace the inode).
  struct stat before {}, after {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  EXPECT_TRUE(again.save(sample()).ok());
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  core::SyncState changed = sample();
  changed.reload_pending = false;
  EXPECT_TRUE(again.save(changed).ok());
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(StateFile(path).load(), changed);
}

TEST(StateFile, AFailedSaveIsReturnedAndTriedAgainByTheNextSave) {
  test::TempDir dir;
  // A directory that does not exist yet: unwritable for root too.
  const std::string path = dir.file("later/state.json");
  StateFile f(path);
  auto st = f.save(sample());
  ASSERT_FALSE(st.ok()) << "a save that wrote nothing must say so";
  EXPECT_NE(st.error().message.find(path), std::string::npos) << "names the file: " << st.error().message;
  // The same state again is not "already saved": it is tried again, and works once the directory exists.
  ASSERT_FALSE(f.save(sample()).ok());
  ASSERT_EQ(::mkdir(dir.file("later").c_str(), 0700), 0);
  ASSERT_TRUE(f.save(sample()).ok());
  EXPECT_EQ(StateFile(path).load(), sample());
}

}  // namespace
}  // namespace hasg::daemon
