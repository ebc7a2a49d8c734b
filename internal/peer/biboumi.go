package peer

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Biboumi starts the Biboumi IRC gateway as the XEP-0114 component domain,
// connecting with secret to the component port at componentAddr (which
// must be on 127.0.0.1, Biboumi's only choice that makes sense). Its
// configuration and database live in a temporary directory, its built-in
// identd is off, and it logs at debug level, XML included, to its output.
// It is killed when the test ends. Biboumi gives no sign of being
// attached that a test could rely on across versions: callers wait for
// the domain on the server themselves.
func Biboumi(t testing.TB, componentAddr, domain, secret string) *Process {
	t.Helper()
	bin := Binary(t, "/usr/bin/biboumi", "biboumi")
	host, port, err := net.SplitHostPort(componentAddr)
	if err != nil {
		t.Fatalf("biboumi: component address %q: %v", componentAddr, err)
	}
	dir := t.TempDir()
	cfg := "hostname=" + domain + "\n" +
		"password=" + secret + "\n" +
		"xmpp_server_ip=" + host + "\n" +
		"port=" + port + "\n" +
		"db_name=" + filepath.Join(dir, "biboumi.sqlite") + "\n" +
		"admin=\n" +
		"realname_customization=true\n" +
		"realname_from_jid=false\n" +
		"log_file=\n" +
		"log_level=0\n" +
		"identd_port=0\n" +
		"policy_directory=" + dir + "\n"
	path := filepath.Join(dir, "biboumi.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("write biboumi config: %v", err)
	}
	return Launch(t, bin, path)
}
