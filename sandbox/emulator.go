package sandbox

import "strings"

// EmulatorUserKey is the demo user a Bot Framework Emulator sender becomes
// when it names none: Megan Bowen, who may request, as in the README's
// walkthrough. An Emulator set to "use your own user ID" with a demo
// user's key ("adele") or object ID acts as that user.
const EmulatorUserKey = "megan"

// EmulatorUser returns the demo user a Bot Framework Emulator sender is:
// the user whose key or object ID is fromID or aadObjectID, else the user
// EmulatorUserKey, else the first user. ok is false only for a tenant
// without users.
func (t *Tenant) EmulatorUser(fromID, aadObjectID string) (u User, ok bool) {
	for _, id := range []string{aadObjectID, fromID} {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		for _, u := range t.Users {
			if strings.EqualFold(u.ObjectID, id) || strings.EqualFold(u.Key, id) {
				return u, true
			}
		}
	}
	for _, u := range t.Users {
		if u.Key == EmulatorUserKey {
			return u, true
		}
	}
	if len(t.Users) == 0 {
		return User{}, false
	}
	return t.Users[0], true
}
