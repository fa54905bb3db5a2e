package server

import "testing"

func TestLRU(t *testing.T) {
	c := newLRU(100)
	for _, k := range []string{"a", "b", "c", "d"} {
		c.put(k, k, 25)
	}
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("e", "e", 25) // evicts b, the least recently used
	if _, ok := c.get("b"); ok {
		t.Error("b survived eviction")
	}
	for _, k := range []string{"a", "c", "d", "e"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	c.put("huge", "huge", 26) // more than a quarter of the budget: not kept
	if _, ok := c.get("huge"); ok {
		t.Error("an entry above a quarter of the budget was kept")
	}
	if c.used > c.budget {
		t.Errorf("used %d > budget %d", c.used, c.budget)
	}
}
