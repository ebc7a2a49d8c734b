// Package admin is the control socket behind the CLI's admin verbs: a Unix
// socket in the data directory (mode 0600, so only the server's user can
// use it) speaking one request line and one answer per connection.
package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// maxLine bounds a request.
const maxLine = 4096

// Handler answers one command (already split into words).
type Handler func(ctx context.Context, args []string) (string, error)

// Server serves the control socket.
type Server struct {
	path    string
	handler Handler
	log     *slog.Logger
	ln      net.Listener
	wg      sync.WaitGroup
}

// Listen creates the socket at path (replacing a stale one).
func Listen(path string, h Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("admin: remove stale socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin: chmod %s: %w", path, err)
	}
	s := &Server{path: path, handler: h, log: log, ln: ln}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
		}()
	}
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxLine), maxLine).ReadString('\n')
	if err != nil {
		fmt.Fprintf(c, "error: unreadable request\n")
		return
	}
	args := strings.Fields(line)
	if len(args) == 0 {
		fmt.Fprintf(c, "error: empty request\n")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := s.handler(ctx, args)
	if err != nil {
		s.log.Info("admin command failed", "command", args[0], "err", err)
		fmt.Fprintf(c, "error: %s\n", oneLine(err.Error()))
		return
	}
	s.log.Info("admin command", "command", strings.Join(args, " "))
	fmt.Fprintf(c, "ok\n%s", out)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

// Close stops the socket and waits for requests in flight.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	os.Remove(s.path)
	return err
}

// Call sends one command to the socket at path and returns the answer
// body; an "error:" answer comes back as an error.
func Call(path string, args ...string) (string, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("is the server running? connect to %s: %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\n", strings.Join(args, " ")); err != nil {
		return "", fmt.Errorf("send to %s: %w", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(c, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read from %s: %w", path, err)
	}
	resp := string(b)
	if rest, ok := strings.CutPrefix(resp, "ok\n"); ok {
		return rest, nil
	}
	return "", errors.New(strings.TrimSpace(strings.TrimPrefix(resp, "error: ")))
}
