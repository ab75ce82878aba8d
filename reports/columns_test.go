package reports

import (
	"reflect"
	"strings"
	"testing"
)

// TestColumnKeysAreJSONKeys keeps the CSV header and the API's JSON in the
// same words: every column's key is a JSON key of its row.
func TestColumnKeysAreJSONKeys(t *testing.T) {
	check := func(name string, row any, keys []string) {
		tags := map[string]bool{}
		rt := reflect.TypeOf(row)
		for i := range rt.NumField() {
			tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			tags[tag] = true
		}
		for _, k := range keys {
			if !tags[k] {
				t.Errorf("%s: column %q is no JSON key of the row", name, k)
			}
		}
	}
	check("ads", AdRow{}, columnKeys(AdColumns))
	check("channels", TrafficRow{}, columnKeys(ChannelColumns))
	check("pages", TrafficRow{}, columnKeys(PageColumns))
	check("new-repeat", TrafficRow{}, columnKeys(NewRepeatColumns))
}
