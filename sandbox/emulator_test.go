package sandbox

import "testing"

func TestEmulatorUser(t *testing.T) {
	w, err := Open(Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tn := w.Tenant()
	byKey := map[string]User{}
	for _, u := range tn.Users {
		byKey[u.Key] = u
	}
	for _, c := range []struct{ fromID, oid, want string }{
		{"5f3c1f7e-7d1f-4e57-9c7d-0b5a4a1e2f30", "", EmulatorUserKey}, // the Emulator's generated user ID
		{"", "", EmulatorUserKey},
		{"adele", "", "adele"}, // "use your own user ID" set to a demo user's key
		{"x", byKey["isaiah"].ObjectID, "isaiah"},
		{byKey["lee"].ObjectID, "", "lee"},
		{"ADELE", "", "adele"},
	} {
		u, ok := tn.EmulatorUser(c.fromID, c.oid)
		if !ok || u.Key != c.want {
			t.Errorf("EmulatorUser(%q, %q) = %s, want %s", c.fromID, c.oid, u.Key, c.want)
		}
	}
}
