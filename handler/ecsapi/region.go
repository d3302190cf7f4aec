package ecsapi

// DescribePageSize is DescribeInstances' largest page, and also the most IDs
// InstanceIds takes.
const DescribePageSize = 100

// ValidRegionID says whether s looks like a region ID:
// ^[a-z][a-z0-9]*(-[a-z0-9]+)+$ (a lowercase letter, then lowercase letters,
// digits and single dashes, at least one dash, none at the end), checked
// without a regexp compiled at start-up.
func ValidRegionID(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	dashes := 0
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
			dashes++
		case (c < 'a' || c > 'z') && (c < '0' || c > '9'):
			return false
		}
	}
	return dashes > 0
}
