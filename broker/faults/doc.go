// Package faults holds the broker's fault-injection suite and nothing else:
// hostile requests, a second broker on one data dir, topic deletion racing
// creation, crashes mid-operation, corrupt indexes and metadata, a full
// disk, descriptor limits, slow restarts and a damaged offsets state file.
// Each test drives the in-process broker (testkit.StartBroker) or a broker
// child process (testkit.StartBrokerProcess, killed with SIGKILL) through
// real franz-go clients, and checks that every acknowledged record is still
// readable at its offset afterwards. linearizability_test.go checks the
// histories of produce, fetch and offset commits under kill -9 and restart
// with porcupine.
package faults
