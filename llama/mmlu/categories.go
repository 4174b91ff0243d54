package mmlu

// Subcategories maps each of the 57 MMLU subjects to its subcategories, as
// the subcategories dict of the reference categories.py.
var Subcategories = map[string][]string{
	"abstract_algebra":                    {"math"},
	"anatomy":                             {"health"},
	"astronomy":                           {"physics"},
	"business_ethics":                     {"business"},
	"clinical_knowledge":                  {"health"},
	"college_biology":                     {"biology"},
	"college_chemistry":                   {"chemistry"},
	"college_computer_science":            {"computer science"},
	"college_mathematics":                 {"math"},
	"college_medicine":                    {"health"},
	"college_physics":                     {"physics"},
	"computer_security":                   {"computer science"},
	"conceptual_physics":                  {"physics"},
	"econometrics":                        {"economics"},
	"electrical_engineering":              {"engineering"},
	"elementary_mathematics":              {"math"},
	"formal_logic":                        {"philosophy"},
	"global_facts":                        {"other"},
	"high_school_biology":                 {"biology"},
	"high_school_chemistry":               {"chemistry"},
	"high_school_computer_science":        {"computer science"},
	"high_school_european_history":        {"history"},
	"high_school_geography":               {"geography"},
	"high_school_government_and_politics": {"politics"},
	"high_school_macroeconomics":          {"economics"},
	"high_school_mathematics":             {"math"},
	"high_school_microeconomics":          {"economics"},
	"high_school_physics":                 {"physics"},
	"high_school_psychology":              {"psychology"},
	"high_school_statistics":              {"math"},
	"high_school_us_history":              {"history"},
	"high_school_world_history":           {"history"},
	"human_aging":                         {"health"},
	"human_sexuality":                     {"culture"},
	"international_law":                   {"law"},
	"jurisprudence":                       {"law"},
	"logical_fallacies":                   {"philosophy"},
	"machine_learning":                    {"computer science"},
	"management":                          {"business"},
	"marketing":                           {"business"},
	"medical_genetics":                    {"health"},
	"miscellaneous":                       {"other"},
	"moral_disputes":                      {"philosophy"},
	"moral_scenarios":                     {"philosophy"},
	"nutrition":                           {"health"},
	"philosophy":                          {"philosophy"},
	"prehistory":                          {"history"},
	"professional_accounting":             {"other"},
	"professional_law":                    {"law"},
	"professional_medicine":               {"health"},
	"professional_psychology":             {"psychology"},
	"public_relations":                    {"politics"},
	"security_studies":                    {"politics"},
	"sociology":                           {"culture"},
	"us_foreign_policy":                   {"politics"},
	"virology":                            {"health"},
	"world_religions":                     {"philosophy"},
}

// Category is one of the four MMLU category groups and the subcategories
// it is made of.
type Category struct {
	Name          string
	Subcategories []string
}

// Categories are the four MMLU categories in the reference order (the
// categories dict of the reference categories.py).
var Categories = []Category{
	{Name: "STEM", Subcategories: []string{"physics", "chemistry", "biology", "computer science", "math", "engineering"}},
	{Name: "humanities", Subcategories: []string{"history", "philosophy", "law"}},
	{Name: "social sciences", Subcategories: []string{"politics", "culture", "economics", "geography", "psychology"}},
	{Name: "other", Subcategories: []string{"other", "business", "health"}},
}

// SubcategoryOrder lists the 17 subcategories in the order the reference
// reports them: by first appearance when walking the subjects in
// alphabetical order.
var SubcategoryOrder = []string{
	"math", "health", "physics", "business", "biology", "chemistry",
	"computer science", "economics", "engineering", "philosophy", "other",
	"history", "geography", "politics", "psychology", "culture", "law",
}

// SubjectCategories returns the categories a subject belongs to (one for
// every MMLU subject), in [Categories] order; nil for an unknown subject.
func SubjectCategories(subject string) []string {
	var out []string
	for _, c := range Categories {
		for _, sub := range c.Subcategories {
			if contains(Subcategories[subject], sub) {
				out = append(out, c.Name)
				break
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
