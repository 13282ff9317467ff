package results

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A run's files agree as a set. results.json is the authoritative file:
// WriteAll writes it first, then every file derived from it, then
// manifest.json, which names each file of the set with its SHA-256 — so
// a manifest exists only for a set that was written whole, and it is
// written atomically (temp file + rename) like every other file.
//
// A run is marked incomplete (results.json "incomplete": true with a
// reason) in every write but its last. kill -9 at any moment therefore
// leaves one of:
//   - no results.json yet (nothing to read);
//   - a results.json that says incomplete;
//   - a complete results.json whose manifest is missing or names an
//     older results.json (killed while writing the derived files): the
//     derived files may be stale; results.json itself is whole.
//
// CheckFolder tells these apart.
//
// Note: writing the set into a temporary folder and renaming it over the
// run's folder was rejected: a directory cannot be renamed over a
// non-empty one atomically on Linux, and the run's folder (with its
// config files) must exist from the start.

// ManifestFile is the name of the manifest, written last.
const ManifestFile = "manifest.json"

// ManifestSchema names the manifest format.
const ManifestSchema = "ortbench/manifest/v1"

// Manifest names the files of one consistent write of a run.
type Manifest struct {
	Schema     string `json:"schema"`
	RunID      string `json:"run_id"`
	Cells      int    `json:"cells"`
	Incomplete bool   `json:"incomplete,omitempty"`
	// IncompleteReason says why (results.json's incomplete_reason, or the
	// write that failed).
	IncompleteReason string          `json:"incomplete_reason,omitempty"`
	Files            []ManifestEntry `json:"files"`
}

// ManifestEntry is one file of the set.
type ManifestEntry struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// FolderState is what CheckFolder found in a run's folder.
type FolderState struct {
	// Incomplete: the run was cut short (or is still running): its
	// results.json says so, or there is none.
	Incomplete bool
	// Reason says why it is incomplete.
	Reason string
	// Stale lists files that do not match the manifest (or every derived
	// file when the manifest is missing or older than results.json):
	// results.json is whole, but these may be from an earlier write.
	Stale []string
}

// CheckFolder reads a run's folder: whether its results.json is there and
// complete, and whether every file agrees with manifest.json. A folder
// written before manifests existed (no manifest, no incomplete field)
// reads as complete and consistent.
func CheckFolder(dir string) (FolderState, error) {
	var st FolderState
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if errors.Is(err, fs.ErrNotExist) {
		st.Incomplete, st.Reason = true, "no results.json: the run stopped before its first cell was written"
		return st, nil
	}
	if err != nil {
		return st, err
	}
	var probe struct {
		Incomplete bool   `json:"incomplete"`
		Reason     string `json:"incomplete_reason"`
		RunID      string `json:"run_id"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return st, fmt.Errorf("%s: not a results file: %v", filepath.Join(dir, "results.json"), err)
	}
	if probe.Incomplete {
		st.Incomplete, st.Reason = true, probe.Reason
		if st.Reason == "" {
			st.Reason = "results.json is marked incomplete"
		}
	}
	mdata, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		// Killed before the first manifest, or a folder from before
		// manifests: nothing to compare with.
		return st, nil
	}
	if err != nil {
		return st, err
	}
	var m Manifest
	if err := json.Unmarshal(mdata, &m); err != nil || m.Schema != ManifestSchema {
		st.Stale = append(st.Stale, ManifestFile)
		return st, nil
	}
	jsonMatches := false
	for _, f := range m.Files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.Base(f.Name)))
		switch {
		case err != nil || sha(got) != f.SHA256:
			st.Stale = append(st.Stale, f.Name)
		case f.Name == "results.json":
			jsonMatches = true
		}
	}
	if jsonMatches && m.Incomplete && !st.Incomplete {
		st.Incomplete, st.Reason = true, m.IncompleteReason
	}
	if !jsonMatches && !st.Incomplete {
		// results.json was rewritten after this manifest: the derived
		// files may all be from the earlier write.
		st.Stale = nil
		for _, f := range m.Files {
			if f.Name != "results.json" {
				st.Stale = append(st.Stale, f.Name)
			}
		}
	}
	return st, nil
}
