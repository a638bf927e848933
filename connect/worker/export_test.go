package worker

// LeaderURL is the REST URL of the worker that carries out REST writes, as
// this worker sees it ("" while unknown); tests use it to find a follower.
func (w *Worker) LeaderURL() string {
	self, url := w.herder.members.leadership()
	if self {
		return w.advertisedURL()
	}
	return url
}
