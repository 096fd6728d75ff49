// Typedefs: chains, containers, a struct defined later, annotations, separators.
namespace rs typedefs

typedef i64 UserId
typedef UserId AccountOwner;
typedef AccountOwner Owner,
typedef list<UserId> UserIds
typedef map<string, UserIds> Groups
typedef Profile UserProfile
typedef list<UserProfile> Profiles (container = "vec")

struct Profile {
  1: Owner owner
  2: UserIds friends
  3: Groups groups
}

const Owner ROOT = 0
const UserIds ADMINS = [1, 2]
