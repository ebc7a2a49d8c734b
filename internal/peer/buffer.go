package peer

import (
	"bytes"
	"sync"
)

// lockedBuffer collects a process's output written from two pipes and
// lets readers wait for more.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLockedBuffer() *lockedBuffer {
	return &lockedBuffer{changed: make(chan struct{})}
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// snapshot returns the text so far and a channel closed by the next write.
func (l *lockedBuffer) snapshot() (string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.changed
}
