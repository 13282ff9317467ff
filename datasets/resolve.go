package datasets

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// featureNamesKey is the field metadata key under which WriteArrowIPC stores
// a tensor column's feature names (a JSON array of strings).
const featureNamesKey = "ortbench:feature_names"

// maxTensorWidth bounds a tensor column's width: a corrupt file must not make
// Open build billions of feature names.
const maxTensorWidth = 1 << 20

// selection is the outcome of matching a Spec against a file's schema; all
// indices are schema field indices.
type selection struct {
	names   []string
	width   int
	scalars []int // one field per feature, or nil with a tensor
	tensor  int   // tensor field, or -1
	label   int   // label field, or -1
}

// fields returns the schema fields the selection reads, ascending.
func (s selection) fields() []int {
	f := slices.Clone(s.scalars)
	if s.tensor >= 0 {
		f = append(f, s.tensor)
	}
	if s.label >= 0 {
		f = append(f, s.label)
	}
	slices.Sort(f)
	return slices.Compact(f)
}

// resolve matches spec against the schema.
func resolve(file string, sc *arrow.Schema, spec Spec) (selection, error) {
	sel := selection{tensor: -1, label: -1}
	names := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = f.Name
	}
	index := func(name string) int { return slices.Index(names, name) }

	switch {
	case spec.Label != "":
		sel.label = index(spec.Label)
		if sel.label < 0 {
			return sel, errorf(file, "label column %q not found (have: %s)", spec.Label, list(names))
		}
	default:
		sel.label = index(defaultLabel)
	}
	if sel.label >= 0 {
		if dt := sc.Field(sel.label).Type; !isNumeric(dt) {
			return sel, errorf(file, "label column %q is %s, want an integer column (class indices)", names[sel.label], typeName(dt))
		}
	}

	tensorCol := spec.TensorColumn
	if tensorCol == "" && len(spec.Features) == 0 {
		// A file with no numeric scalar columns and one tensor column
		// (what WriteArrowIPC writes) needs no tensor_column setting.
		var scalars, tensors []string
		for i, f := range sc.Fields() {
			if fsl, ok := f.Type.(*arrow.FixedSizeListType); ok && isNumeric(fsl.Elem()) {
				tensors = append(tensors, f.Name)
			} else if i != sel.label && isNumeric(f.Type) {
				scalars = append(scalars, f.Name)
			}
		}
		if len(scalars) == 0 && len(tensors) == 1 {
			tensorCol = tensors[0]
		}
	}

	switch {
	case tensorCol != "":
		t := index(tensorCol)
		if t < 0 {
			return sel, errorf(file, "tensor column %q not found (have: %s)", tensorCol, list(names))
		}
		f := sc.Field(t)
		fsl, ok := f.Type.(*arrow.FixedSizeListType)
		if !ok {
			return sel, errorf(file, "tensor column %q is %s, want fixed_size_list<numeric, N> (or list the scalar columns in features)", f.Name, typeName(f.Type))
		}
		if !isNumeric(fsl.Elem()) {
			return sel, errorf(file, "tensor column %q is %s, want a numeric element type", f.Name, typeName(f.Type))
		}
		if fsl.Len() <= 0 || fsl.Len() > maxTensorWidth {
			return sel, errorf(file, "tensor column %q has %d values per row, want 1..%d", f.Name, fsl.Len(), maxTensorWidth)
		}
		sel.tensor, sel.width = t, int(fsl.Len())
		sel.names = tensorNames(f, sel.width)
		return sel, nil

	case len(spec.Features) == 0:
		for i, f := range sc.Fields() {
			if i != sel.label && isNumeric(f.Type) {
				sel.scalars = append(sel.scalars, i)
			}
		}
		if len(sel.scalars) == 0 {
			return sel, errorf(file, "no numeric feature columns (have: %s): name a tensor_column or convert the features to numbers", list(names))
		}

	default:
		for _, pat := range spec.Features {
			if !isGlob(pat) {
				i := index(pat)
				if i < 0 {
					return sel, errorf(file, "column %q not found (have: %s)", pat, list(names))
				}
				sel.scalars = append(sel.scalars, i)
				continue
			}
			if _, err := path.Match(pat, ""); err != nil {
				return sel, errorf(file, "feature pattern %q is malformed (%v): see Go's path.Match syntax", pat, err)
			}
			matched := 0
			for i, name := range names {
				if ok, _ := path.Match(pat, name); ok && i != sel.label {
					sel.scalars = append(sel.scalars, i)
					matched++
				}
			}
			if matched == 0 {
				return sel, errorf(file, "feature pattern %q matches no column (have: %s)", pat, list(names))
			}
		}
		seen := make(map[int]bool, len(sel.scalars))
		for _, i := range sel.scalars {
			if seen[i] {
				return sel, errorf(file, "column %q is selected twice by features %q: list each column once", names[i], spec.Features)
			}
			seen[i] = true
			if dt := sc.Field(i).Type; !isNumeric(dt) {
				return sel, errorf(file, "column %q is %s, want a numeric column (int8..int64, uint8..uint64, float16, float32, float64)", names[i], typeName(dt))
			}
		}
	}
	sel.width = len(sel.scalars)
	sel.names = make([]string, len(sel.scalars))
	for j, i := range sel.scalars {
		sel.names[j] = names[i]
	}
	return sel, nil
}

// tensorNames returns the names stored with a tensor column, or "col[i]".
func tensorNames(f arrow.Field, width int) []string {
	if v, ok := f.Metadata.GetValue(featureNamesKey); ok {
		var stored []string
		if json.Unmarshal([]byte(v), &stored) == nil && len(stored) == width {
			return stored
		}
	}
	out := make([]string, width)
	for i := range out {
		out[i] = fmt.Sprintf("%s[%d]", f.Name, i)
	}
	return out
}

func isGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func isNumeric(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// typeName names a type the way a user thinks of it.
func typeName(dt arrow.DataType) string {
	switch t := dt.(type) {
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return "string"
	case *arrow.ListType:
		return "list<" + typeName(t.Elem()) + ">"
	case *arrow.LargeListType:
		return "large_list<" + typeName(t.Elem()) + ">"
	case *arrow.FixedSizeListType:
		return fmt.Sprintf("fixed_size_list<%s, %d>", typeName(t.Elem()), t.Len())
	case *arrow.DictionaryType:
		return "dictionary<" + typeName(t.ValueType) + ">"
	}
	return dt.String()
}

// list shortens a column list for an error message.
func list(names []string) string {
	const head = 8
	if len(names) == 0 {
		return "no columns"
	}
	if len(names) <= head+1 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... %d more ..., %s", strings.Join(names[:head], ", "), len(names)-head-1, names[len(names)-1])
}
