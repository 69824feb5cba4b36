package admin

// importRoutes lists the console's import pages (to be written).
func (c *Console) importRoutes() []route { return nil }
