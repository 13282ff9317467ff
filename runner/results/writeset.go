package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
)

// setFile is one encoded file of a run's set.
type setFile struct {
	name string
	data []byte
}

// writingReason marks a complete run's results.json while the rest of its
// set is written: a write that fails half way (a full disk) or is cut
// short leaves a results.json that says so, never a complete-looking one
// without its files.
const writingReason = "written while the run's files were being written: if nothing later completed it, writing them failed or was cut short"

// writeSet writes files (results.json first) into dir, then manifest.json.
// A complete run's results.json is first written marked incomplete and
// rewritten complete only after every other file is written; encErrs are
// the files that could not even be encoded, which leave the run marked.
func writeSet(run *Run, dir string, files []setFile, encErrs []error) ([]string, error) {
	errs := encErrs
	final := files[0]
	if !run.Incomplete {
		marked := *run
		marked.Incomplete, marked.IncompleteReason = true, writingReason
		var buf bytes.Buffer
		if err := EncodeJSON(&marked, &buf); err != nil {
			return nil, fmt.Errorf("%s: %w", final.name, err)
		}
		files[0] = setFile{final.name, buf.Bytes()}
	}
	m := Manifest{Schema: ManifestSchema, RunID: run.RunID, Cells: len(run.Cells), Incomplete: run.Incomplete, IncompleteReason: run.IncompleteReason}
	var paths []string
	for i, fl := range files {
		p := filepath.Join(dir, fl.name)
		if err := WriteFileAtomic(p, fl.data); err != nil {
			if i == 0 {
				return nil, err
			}
			errs = append(errs, err)
			continue
		}
		paths = append(paths, p)
		m.Files = append(m.Files, ManifestEntry{Name: fl.name, SHA256: sha(fl.data), Bytes: len(fl.data)})
	}
	if len(errs) > 0 {
		// The set is not whole: say so in the manifest too (best effort:
		// on a full disk the results.json written first says it already).
		m.Incomplete, m.IncompleteReason = true, fmt.Sprintf("writing the run's files failed: %v", errors.Join(errs...))
		_ = writeManifest(dir, m)
		return paths, errors.Join(errs...)
	}
	if !run.Incomplete {
		if err := WriteFileAtomic(filepath.Join(dir, final.name), final.data); err != nil {
			m.Incomplete, m.IncompleteReason = true, fmt.Sprintf("writing the run's files failed: %v", err)
			_ = writeManifest(dir, m)
			return paths, err
		}
		m.Files[0] = ManifestEntry{Name: final.name, SHA256: sha(final.data), Bytes: len(final.data)}
	}
	if err := writeManifest(dir, m); err != nil {
		return paths, err
	}
	return append(paths, filepath.Join(dir, ManifestFile)), nil
}

func writeManifest(dir string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, ManifestFile), append(data, '\n'))
}
