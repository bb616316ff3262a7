// The accounts part of the storage contract (store/accounts.h), on every backend: users, tokens,
// memberships, sessions, limits, usage and the storage quota.
#include <set>
#include <thread>

#include "store/accounts.h"
#include "store/notebooks.h"
#include "store_conformance/store_fixture.h"

namespace nereid::store_conformance {
namespace {
using store::ProjectRole;
using store::UserKind;
using store::WorkspaceRole;
using testing::B;

class AccountsTest : public testing::StoreTest {
 protected:
  store::AccountStore& A() { return *store_->Accounts(); }
  int64_t UserId(const std::string& name) {
    auto u = A().GetUser(name);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? u->id : 0;
  }
};

TEST_P(AccountsTest, Users) {
  auto bob = A().CreateUser("bob", UserKind::kPerson, false);
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_GT(bob->id, 0);
  EXPECT_GT(bob->creation_time_us, 0);
  EXPECT_FALSE(bob->rate.has_value());
  EXPECT_EQ(A().CreateUser("bob", UserKind::kService, true).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(A().CreateUser("no spaces", UserKind::kPerson, false).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(A().CreateUser("Alice", UserKind::kPerson, true).ok());
  ASSERT_TRUE(A().CreateUser("ci", UserKind::kService, false).ok());

  auto users = A().ListUsers();
  ASSERT_TRUE(users.ok());
  std::vector<std::string> names;
  for (auto& u : *users) names.push_back(u.name);
  // Byte order on every backend, whatever the database's locale: capitals first.
  EXPECT_EQ(names, (std::vector<std::string>{"Alice", "bob", "ci"}));
  EXPECT_TRUE((*users)[0].is_admin);
  EXPECT_EQ((*users)[2].kind, UserKind::kService);

  auto got = A().GetUser("bob");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, bob->id);
  EXPECT_EQ(got->creation_time_us, bob->creation_time_us);
  EXPECT_EQ(A().GetUser("nobody").status().code(), StatusCode::kNotFound);

  store::AccountStore::UserUpdate update;
  update.disabled = true;
  update.rate = store::RateSetting{120, 10};
  auto updated = A().UpdateUser("bob", update);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_TRUE(updated->disabled);
  EXPECT_FALSE(updated->is_admin);  // unset fields keep their value
  EXPECT_EQ(updated->rate, (store::RateSetting{120, 10}));
  store::AccountStore::UserUpdate promote;
  promote.is_admin = true;
  updated = A().UpdateUser("bob", promote);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->is_admin);
  EXPECT_TRUE(updated->disabled);
  EXPECT_EQ(updated->rate, (store::RateSetting{120, 10}));
  store::AccountStore::UserUpdate clear;
  clear.rate = std::optional<store::RateSetting>();  // set, to "no override"
  updated = A().UpdateUser("bob", clear);
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->rate.has_value());
  EXPECT_FALSE(A().GetUser("bob")->rate.has_value());
  EXPECT_EQ(A().UpdateUser("nobody", promote).status().code(), StatusCode::kNotFound);

  auto hash = A().GetPasswordHash("bob");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash, "");
  ASSERT_TRUE(A().SetPasswordHash("bob", "$argon2id$v=19$x").ok());
  EXPECT_EQ(*A().GetPasswordHash("bob"), "$argon2id$v=19$x");
  ASSERT_TRUE(A().SetPasswordHash("bob", "").ok());
  EXPECT_EQ(*A().GetPasswordHash("bob"), "");
  EXPECT_EQ(A().SetPasswordHash("nobody", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(A().GetPasswordHash("nobody").status().code(), StatusCode::kNotFound);

  Reopen();
  got = A().GetUser("bob");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->disabled && got->is_admin);
}

TEST_P(AccountsTest, ConcurrentCreateUserHasOneWinner) {
  std::atomic<int> created{0}, exists{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = A().CreateUser("dup", UserKind::kPerson, false);
      if (r.ok()) ++created;
      if (r.status().code() == StatusCode::kAlreadyExists) ++exists;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(exists.load(), 7);
}

TEST_P(AccountsTest, Tokens) {
  ASSERT_TRUE(A().CreateUser("bob", UserKind::kPerson, false).ok());
  ASSERT_TRUE(A().CreateUser("ann", UserKind::kPerson, false).ok());
  EXPECT_EQ(A().CreateToken("nobody", "x", std::string(64, '0')).status().code(),
            StatusCode::kNotFound);
  auto t1 = A().CreateToken("bob", "laptop", std::string(64, '1'));
  auto t2 = A().CreateToken("ann", "ci", std::string(64, '2'));
  auto t3 = A().CreateToken("bob", "ci", std::string(64, '3'));
  ASSERT_TRUE(t1.ok() && t2.ok() && t3.ok()) << t1.status().ToString();
  EXPECT_LT(t1->id, t2->id);
  EXPECT_LT(t2->id, t3->id);
  EXPECT_EQ(t1->user, "bob");
  EXPECT_EQ(t1->last_used_us, 0);
  EXPECT_EQ(t1->revoked_time_us, 0);
  EXPECT_FALSE(A().CreateToken("ann", "again", std::string(64, '1')).ok());  // hash is unique

  auto owner = A().LookupToken(std::string(64, '3'));
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(owner->token.id, t3->id);
  EXPECT_EQ(owner->token.name, "ci");
  EXPECT_EQ(owner->user.name, "bob");
  EXPECT_EQ(owner->user.id, UserId("bob"));
  EXPECT_EQ(A().LookupToken(std::string(64, '9')).status().code(), StatusCode::kNotFound);

  auto bobs = A().ListTokens("bob");
  ASSERT_TRUE(bobs.ok());
  ASSERT_EQ(bobs->size(), 2u);
  EXPECT_EQ((*bobs)[0].id, t1->id);  // creation (id) order
  EXPECT_EQ((*bobs)[1].id, t3->id);
  auto all = A().ListTokens("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(A().ListTokens("nobody").status().code(), StatusCode::kNotFound);

  // Touches only move last-used forward; the latest of several for one token wins.
  ASSERT_TRUE(A().TouchTokens({{t1->id, 500}, {t2->id, 700}, {t1->id, 900}, {t1->id, 800}}).ok());
  ASSERT_TRUE(A().TouchTokens({{t1->id, 100}}).ok());
  ASSERT_TRUE(A().TouchTokens({}).ok());
  ASSERT_TRUE(A().TouchTokens({{999999, 5}}).ok());  // a token unknown here is no error
  EXPECT_EQ(A().GetToken(t1->id)->last_used_us, 900);
  EXPECT_EQ(A().GetToken(t2->id)->last_used_us, 700);
  EXPECT_EQ(A().GetToken(t3->id)->last_used_us, 0);

  ASSERT_TRUE(A().RevokeToken(t1->id).ok());
  auto revoked = A().GetToken(t1->id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_GT(revoked->revoked_time_us, 0);
  ASSERT_TRUE(A().RevokeToken(t1->id).ok());  // idempotent: the first time is kept
  EXPECT_EQ(A().GetToken(t1->id)->revoked_time_us, revoked->revoked_time_us);
  // A revoked token is still found (the caller refuses it, saying why).
  owner = A().LookupToken(std::string(64, '1'));
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->token.revoked_time_us, revoked->revoked_time_us);
  EXPECT_EQ(A().RevokeToken(999999).code(), StatusCode::kNotFound);
  EXPECT_EQ(A().GetToken(999999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(A().GetToken(t2->id)->revoked_time_us, 0);
}

TEST_P(AccountsTest, RolesAndGrants) {
  ASSERT_TRUE(store_->CreateWorkspace("other").ok());
  ASSERT_TRUE(store_->CreateProject("other", "nlp", "NLP").ok());
  ASSERT_TRUE(A().CreateUser("bob", UserKind::kPerson, false).ok());
  ASSERT_TRUE(A().CreateUser("Ann", UserKind::kPerson, false).ok());
  const int64_t bob = UserId("bob");

  auto grants = A().GetGrants(bob);
  ASSERT_TRUE(grants.ok());
  EXPECT_TRUE(grants->workspaces.empty() && grants->projects.empty());

  ASSERT_TRUE(A().SetWorkspaceRole("ws", "bob", WorkspaceRole::kMember).ok());
  ASSERT_TRUE(A().SetWorkspaceRole("ws", "bob", WorkspaceRole::kAdmin).ok());  // replaces
  ASSERT_TRUE(A().SetWorkspaceRole("ws", "Ann", WorkspaceRole::kMember).ok());
  ASSERT_TRUE(A().SetProjectRole("other/nlp", "bob", ProjectRole::kViewer).ok());
  ASSERT_TRUE(A().SetProjectRole("other/nlp", "bob", ProjectRole::kContributor).ok());
  ASSERT_TRUE(A().SetProjectRole("ws/vision", "Ann", ProjectRole::kOwner).ok());

  grants = A().GetGrants(bob);
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->workspaces.size(), 1u);
  EXPECT_EQ(grants->workspaces[0].workspace, "ws");
  EXPECT_EQ(grants->workspaces[0].role, WorkspaceRole::kAdmin);
  ASSERT_EQ(grants->projects.size(), 1u);
  EXPECT_EQ(grants->projects[0].project, "other/nlp");
  EXPECT_EQ(grants->projects[0].role, ProjectRole::kContributor);

  auto members = A().ListWorkspaceMembers("ws");
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].user, "Ann");
  EXPECT_EQ((*members)[0].role, "member");
  EXPECT_EQ((*members)[1].user, "bob");
  EXPECT_EQ((*members)[1].role, "admin");
  auto project_members = A().ListProjectMembers("ws/vision");
  ASSERT_TRUE(project_members.ok());
  ASSERT_EQ(project_members->size(), 1u);
  EXPECT_EQ((*project_members)[0].role, "owner");

  // Removal is idempotent.
  ASSERT_TRUE(A().SetWorkspaceRole("ws", "bob", std::nullopt).ok());
  ASSERT_TRUE(A().SetWorkspaceRole("ws", "bob", std::nullopt).ok());
  ASSERT_TRUE(A().SetProjectRole("other/nlp", "bob", std::nullopt).ok());
  ASSERT_TRUE(A().SetProjectRole("other/nlp", "bob", std::nullopt).ok());
  grants = A().GetGrants(bob);
  ASSERT_TRUE(grants.ok());
  EXPECT_TRUE(grants->workspaces.empty() && grants->projects.empty());
  EXPECT_EQ(A().ListWorkspaceMembers("ws")->size(), 1u);

  EXPECT_EQ(A().SetWorkspaceRole("nope", "bob", WorkspaceRole::kMember).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(A().SetWorkspaceRole("ws", "nobody", WorkspaceRole::kMember).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(A().SetProjectRole("ws/nope", "bob", ProjectRole::kViewer).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(A().SetProjectRole("ws/vision", "nobody", ProjectRole::kViewer).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(A().ListWorkspaceMembers("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(A().ListProjectMembers("ws/nope").status().code(), StatusCode::kNotFound);
}

TEST_P(AccountsTest, SessionsExpire) {
  ASSERT_TRUE(A().CreateUser("bob", UserKind::kPerson, false).ok());
  const int64_t now = clock_.load();
  const int64_t hour = 3'600'000'000;
  const std::string s1(64, 'a'), s2(64, 'b');
  ASSERT_TRUE(A().CreateSession("bob", s1, now + hour).ok());
  EXPECT_EQ(A().CreateSession("nobody", s2, now + hour).code(), StatusCode::kNotFound);

  auto who = A().LookupSession(s1, now);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "bob");
  EXPECT_EQ(A().LookupSession(s1, now + hour - 1)->name, "bob");
  EXPECT_EQ(A().LookupSession(s1, now + hour).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(A().LookupSession(s2, now).status().code(), StatusCode::kNotFound);

  // A disabled user's session is still found: the caller refuses it.
  store::AccountStore::UserUpdate disable;
  disable.disabled = true;
  ASSERT_TRUE(A().UpdateUser("bob", disable).ok());
  EXPECT_TRUE(A().LookupSession(s1, now)->disabled);

  ASSERT_TRUE(A().DeleteSession(s1).ok());
  ASSERT_TRUE(A().DeleteSession(s1).ok());  // idempotent
  EXPECT_EQ(A().LookupSession(s1, now).status().code(), StatusCode::kNotFound);

  // Creating a session removes those already expired (by the store's clock).
  ASSERT_TRUE(A().CreateSession("bob", s1, now - 1).ok());
  ASSERT_TRUE(A().CreateSession("bob", s2, now + hour).ok());
  EXPECT_EQ(A().LookupSession(s1, now - 1000).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(A().LookupSession(s2, now).ok());
}

TEST_P(AccountsTest, WorkspaceLimits) {
  auto limits = A().GetWorkspaceLimits("ws");
  ASSERT_TRUE(limits.ok());
  EXPECT_FALSE(limits->rate.has_value());
  EXPECT_FALSE(limits->quota_bytes.has_value());
  EXPECT_EQ(A().GetWorkspaceLimits("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(A().SetWorkspaceLimits("nope", {}).code(), StatusCode::kNotFound);

  ASSERT_TRUE(A().SetWorkspaceLimits("ws", {store::RateSetting{600, 50}, 1 << 20}).ok());
  limits = A().GetWorkspaceLimits("ws");
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ(limits->rate, (store::RateSetting{600, 50}));
  EXPECT_EQ(limits->quota_bytes, 1 << 20);
  // Setting replaces both: unset means unlimited / no workspace rate.
  ASSERT_TRUE(A().SetWorkspaceLimits("ws", {std::nullopt, 4096}).ok());
  limits = A().GetWorkspaceLimits("ws");
  EXPECT_FALSE(limits->rate.has_value());
  EXPECT_EQ(limits->quota_bytes, 4096);
  Reopen();
  EXPECT_EQ(A().GetWorkspaceLimits("ws")->quota_bytes, 4096);
}

TEST_P(AccountsTest, UsageSumsRunsPerProject) {
  ASSERT_TRUE(store_->CreateProject("ws", "audio", "AUD").ok());
  ASSERT_TRUE(store_->CreateWorkspace("empty").ok());
  auto usage = A().GetWorkspaceUsage("empty");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->used_bytes, 0);
  EXPECT_TRUE(usage->projects.empty());
  EXPECT_EQ(A().GetWorkspaceUsage("nope").status().code(), StatusCode::kNotFound);

  std::string r1 = NewRun(), r2 = NewRun();
  ASSERT_TRUE(store_->Ingest(r1, B("w", 1).Str("notes", std::string(1000, 'x')).batch).ok());
  ASSERT_TRUE(store_->Ingest(r2, B("w", 1).Floats("loss", {0, 1, 2}, {3, 2, 1}).batch).ok());
  ASSERT_TRUE(A().SetWorkspaceLimits("ws", {std::nullopt, 1'000'000}).ok());

  usage = A().GetWorkspaceUsage("ws");
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->workspace, "ws");
  EXPECT_EQ(usage->quota_bytes, 1'000'000);
  ASSERT_EQ(usage->projects.size(), 2u);
  EXPECT_EQ(usage->projects[0].project, "ws/audio");
  EXPECT_EQ(usage->projects[0].runs, 0);
  EXPECT_EQ(usage->projects[0].bytes, 0);
  EXPECT_EQ(usage->projects[1].project, "ws/vision");
  EXPECT_EQ(usage->projects[1].runs, 2);
  const int64_t expected = store_->GetRun(r1)->size_bytes + store_->GetRun(r2)->size_bytes;
  EXPECT_GE(expected, 1000);
  EXPECT_EQ(usage->projects[1].bytes, expected);
  EXPECT_EQ(usage->used_bytes, expected);
}

TEST_P(AccountsTest, QuotaRefusesTheWholeBatch) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->Ingest(run, B("w", 1).Str("a", std::string(500, 'x')).batch).ok());
  const int64_t used = A().GetWorkspaceUsage("ws")->used_bytes;
  ASSERT_TRUE(A().SetWorkspaceLimits("ws", {std::nullopt, used + 1000}).ok());

  auto over = store_->Ingest(
      run, B("w", 2).Float("small", 1).Str("big", std::string(5000, 'y')).batch);
  ASSERT_EQ(over.status().code(), StatusCode::kQuotaExceeded) << over.status().ToString();
  EXPECT_NE(over.status().message().find("'ws'"), std::string::npos) << over.status().message();
  EXPECT_EQ(A().GetWorkspaceUsage("ws")->used_bytes, used);  // nothing of it was stored
  auto fields = store_->GetFields(run, "small");
  ASSERT_TRUE(fields.ok());
  EXPECT_TRUE(fields->empty());

  // Within the quota: accepted. A batch that does not grow usage is never refused.
  ASSERT_TRUE(store_->Ingest(run, B("w", 2).Str("b", std::string(100, 'z')).batch).ok());
  ASSERT_TRUE(A().SetWorkspaceLimits("ws", {std::nullopt, 1}).ok());
  EXPECT_TRUE(store_->Ingest(run, B("w", 3).Str("b", std::string(50, 'z')).batch).ok());
  EXPECT_EQ(store_->Ingest(run, B("w", 4).Str("c", "more").batch).status().code(),
            StatusCode::kQuotaExceeded);
}

// Notebook checkpoints count in usage and the quota (store/quota.h): once per notebook that has
// the content, refused with the ingest's message shape, and the refusal leaves nothing behind.
TEST_P(AccountsTest, NotebookCheckpointsCountInUsageAndQuota) {
  ASSERT_TRUE(store_->CreateProject("ws", "audio", "AUD").ok());
  std::string run = NewRun();
  ASSERT_TRUE(store_->Ingest(run, B("w", 1).Str("a", std::string(500, 'x')).batch).ok());
  const int64_t run_bytes = store_->GetRun(run)->size_bytes;
  store::NotebookStore& nb = *store_->Notebooks();
  auto add = [&](const std::string& path, char fill, int64_t size, bool* created) {
    return nb.AddCheckpoint("ws/audio", path, std::string(64, fill), size, "bob", created);
  };
  bool created = false;
  ASSERT_TRUE(add("a.ipynb", 'a', 300, &created).ok());
  ASSERT_TRUE(add("a.ipynb", 'a', 300, &created).ok());  // the same content: counted once
  EXPECT_FALSE(created);
  ASSERT_TRUE(add("b.ipynb", 'a', 300, &created).ok());  // another notebook holds it too
  EXPECT_TRUE(created);

  auto usage = A().GetWorkspaceUsage("ws");
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  ASSERT_EQ(usage->projects.size(), 2u);
  const store::ProjectUsage& audio = usage->projects[0];
  EXPECT_EQ(audio.project, "ws/audio");
  EXPECT_EQ(audio.runs, 0);
  EXPECT_EQ(audio.run_bytes, 0);
  EXPECT_EQ(audio.notebook_checkpoints, 2);
  EXPECT_EQ(audio.notebook_bytes, 600);
  EXPECT_EQ(audio.bytes, 600);
  const store::ProjectUsage& vision = usage->projects[1];
  EXPECT_EQ(vision.run_bytes, run_bytes);
  EXPECT_EQ(vision.notebook_checkpoints, 0);
  EXPECT_EQ(vision.bytes, run_bytes);
  EXPECT_EQ(usage->notebook_bytes, 600);
  const int64_t used = run_bytes + 600;
  EXPECT_EQ(usage->used_bytes, used);

  ASSERT_TRUE(A().SetWorkspaceLimits("ws", {std::nullopt, used + 100}).ok());
  auto over = add("new/c.ipynb", 'c', 200, &created);
  ASSERT_EQ(over.status().code(), StatusCode::kQuotaExceeded) << over.status().ToString();
  EXPECT_EQ(over.status().message(),
            "storage quota of workspace 'ws' exceeded: " + std::to_string(used) + " of " +
                std::to_string(used + 100) +
                " bytes used, this notebook checkpoint needs 200 more; nothing of it was stored");
  auto listed = nb.ListNotebooks("ws/audio");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);  // the notebook made for the refused checkpoint is gone too
  EXPECT_EQ(A().GetWorkspaceUsage("ws")->used_bytes, used);

  // Content a notebook already has adds nothing, so it is never refused; up to the quota is fine.
  ASSERT_TRUE(add("a.ipynb", 'a', 300, &created).ok());
  ASSERT_TRUE(add("new/c.ipynb", 'c', 100, &created).ok());
  EXPECT_EQ(A().GetWorkspaceUsage("ws")->used_bytes, used + 100);
  // Notebook bytes count against run ingest as well: the workspace is now full.
  auto batch = store_->Ingest(run, B("w", 2).Str("b", std::string(100, 'z')).batch);
  ASSERT_EQ(batch.status().code(), StatusCode::kQuotaExceeded) << batch.status().ToString();
  EXPECT_NE(batch.status().message().find("storage quota of workspace 'ws' exceeded: " +
                                          std::to_string(used + 100) + " of "),
            std::string::npos)
      << batch.status().message();
}

// PostgreSQL only: what one server writes, another (a second store on the same database) sees at
// once, and concurrent batches of one workspace on two servers never exceed its quota together.
// Instantiated for SharedDatabaseBackends() only: a SQLite database belongs to one server.
class SharedAccountsTest : public AccountsTest {};

TEST_P(SharedAccountsTest, TwoServersShareAccountsAndQuota) {
  auto second = store_postgres::OpenPostgresStore(Options());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  store::AccountStore& other = *(*second)->Accounts();

  ASSERT_TRUE(A().CreateUser("bob", UserKind::kPerson, false).ok());
  EXPECT_EQ(other.CreateUser("bob", UserKind::kPerson, false).status().code(),
            StatusCode::kAlreadyExists);
  auto token = other.CreateToken("bob", "ci", std::string(64, '7'));
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(A().RevokeToken(token->id).ok());
  EXPECT_GT(other.LookupToken(std::string(64, '7'))->token.revoked_time_us, 0);

  std::string run_a = NewRun(), run_b = NewRun();
  ASSERT_TRUE(A().SetWorkspaceLimits("ws", {std::nullopt, 20'000}).ok());
  std::atomic<int> accepted{0}, refused{0};
  auto writer = [&](store::Store* s, const std::string& run, const std::string& id) {
    for (uint64_t seq = 1; seq <= 20; ++seq) {
      auto r = s->Ingest(run, B(id, seq).Str("f" + std::to_string(seq), std::string(1000, 'q'))
                                  .batch);
      if (r.ok()) ++accepted;
      else if (r.status().code() == StatusCode::kQuotaExceeded) ++refused;
      else ADD_FAILURE() << r.status().ToString();
    }
  };
  std::thread t1(writer, store_.get(), run_a, "a");
  std::thread t2(writer, second->get(), run_b, "b");
  t1.join();
  t2.join();
  EXPECT_GT(refused.load(), 0);
  auto usage = other.GetWorkspaceUsage("ws");
  ASSERT_TRUE(usage.ok());
  EXPECT_LE(usage->used_bytes, 20'000);
  EXPECT_EQ(usage->used_bytes, A().GetWorkspaceUsage("ws")->used_bytes);
}

// Shared rate-limit state exists only where several servers share the database; on PostgreSQL
// it is kept on the database's clock, so a charge comes back as a debt that shrinks in real time.
TEST_P(AccountsTest, RateSharingOnlyWhereServersShareTheDatabase) {
  store::RateShare* share = store_->RateSharing();
  if (GetParam() == "sqlite") {
    EXPECT_EQ(share, nullptr);
    return;
  }
  ASSERT_NE(share, nullptr);
  constexpr int64_t kMinute = 60'000'000;
  const uint64_t login_key = 0xfedcba9876543210ull;  // hashes use all 64 bits
  // A minute's worth of requests admitted just now: x -> max(x + 1 min, now + 1 min).
  auto debts = share->Exchange(0, {{7, kMinute, kMinute}, {8, 0, 0}, {7, kMinute, kMinute}});
  ASSERT_TRUE(debts.ok()) << debts.status().ToString();
  ASSERT_EQ(debts->size(), 1u);  // 8 charged nothing: no debt
  EXPECT_EQ((*debts)[0].key, 7u);
  EXPECT_GT((*debts)[0].us, 2 * kMinute - 10'000'000);
  EXPECT_LE((*debts)[0].us, 2 * kMinute);
  ASSERT_TRUE(share->Exchange(1, {{login_key, kMinute, kMinute}}).ok());
  // A charge of requests long past (floor far below now) adds only to a live debt.
  auto past = share->Exchange(0, {{9, kMinute, -10 * kMinute}});
  ASSERT_TRUE(past.ok());
  for (const auto& d : *past) EXPECT_NE(d.key, 9u);

  auto second = store_postgres::OpenPostgresStore(Options());  // another server
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto seen = (*second)->RateSharing()->Exchange(0, {});
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].key, 7u);
  EXPECT_LE((*seen)[0].us, (*debts)[0].us);
  seen = (*second)->RateSharing()->Exchange(1, {});  // spaces are apart
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].key, login_key);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountsTest, testing::Backends(),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(SharedDatabase, SharedAccountsTest, testing::SharedDatabaseBackends(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nereid::store_conformance
