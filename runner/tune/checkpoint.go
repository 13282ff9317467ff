package tune

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/runner/regular"
	"github.com/ortbench/ortbench/runner/results"
)

// StateFile is the checkpoint's name in a tune's folder.
const StateFile = "tune.json"

func marshalState(s *State) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func unmarshalState(b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("not a tune's checkpoint: %v", err)
	}
	if s.Schema != StateSchema {
		return nil, fmt.Errorf("schema %q, want %q", s.Schema, StateSchema)
	}
	return &s, nil
}

// SaveState writes the checkpoint into dir atomically (a crash leaves the
// previous one whole).
func SaveState(dir string, s *State) error {
	b, err := marshalState(s)
	if err != nil {
		return err
	}
	return results.WriteFileAtomic(filepath.Join(dir, StateFile), b)
}

// LoadState reads dir's checkpoint.
func LoadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s to resume from (is it a tune's folder?)", dir, StateFile)
	}
	return ReadState(path)
}

// ReadState reads a checkpoint file; its errors name the file.
func ReadState(path string) (*State, error) {
	b, err := regular.ReadFile(path, results.MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	s, err := unmarshalState(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return s, nil
}

// Identity hashes what a resume must share with the tune it continues:
// the config as resolved, the space and the settings that steer the
// search (the budget and point bound may change between runs).
func Identity(resolved []byte, sp *Space, set Settings) string {
	set.Budget, set.MaxPoints = 0, 0
	// Where results go (--out) is not part of what was measured.
	var doc map[string]any
	if yaml.Unmarshal(resolved, &doc) == nil {
		if out, ok := doc["output"].(map[string]any); ok {
			delete(out, "dir")
		}
		if b, err := yaml.Marshal(doc); err == nil {
			resolved = b
		}
	}
	h := sha256.New()
	h.Write(resolved)
	fmt.Fprintf(h, "\n%s\n%v\n%+v\n", sp.Describe(), sp.Points(), set)
	return hex.EncodeToString(h.Sum(nil))
}
