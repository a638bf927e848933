package broker

// /healthz: 200 "ok" once the broker serves and nothing is wrong; 503 with
// one line per failing check otherwise, so a probe or a person sees why:
//
//	recovery: 1234 of 10000 partitions opened
//	storage: no space left on the device of ./data (0 bytes free); ...

import (
	"fmt"
	"net/http"
	"strings"
)

func (b *Broker) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	var problems []string
	if !b.ready.Load() {
		if total := b.recovery.total.Load(); total > 0 {
			problems = append(problems, fmt.Sprintf("recovery: %d of %d partitions opened", b.recovery.done.Load(), total))
		} else {
			problems = append(problems, "recovery: starting")
		}
	}
	if b.storageFull() {
		problems = append(problems, fmt.Sprintf("storage: no space left on the device of %s (%d bytes free); produce fails with KAFKA_STORAGE_ERROR until space returns",
			b.cfg.DataDir, max(b.freeBytes(), 0)))
	}
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "\n"), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}
