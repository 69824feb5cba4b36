package admin

// appsRoutes lists the console's apps pages (to be written).
func (c *Console) appsRoutes() []route { return nil }
