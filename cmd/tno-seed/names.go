package main

import "strings"

// The built-in lists the generator draws from. They are small on purpose:
// usernames and e-mail addresses carry a number, so names may repeat.

var maleGivenNames = []string{
	"Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Jacques", "Bernard",
	"Patrick", "Daniel", "Nicolas", "Christophe", "Éric", "Laurent", "Frédéric",
	"Stéphane", "Julien", "Thomas", "Sébastien", "David", "Olivier", "Vincent",
	"François", "Guillaume", "Antoine", "Maxime", "Alexandre", "Romain", "Hugo",
	"Lucas", "Léo", "Gabriel", "Louis", "Arthur", "Mathis", "Théo", "Nathan",
	"Raphaël", "Jean-Pierre", "Jean-Luc", "Yannick", "Loïc", "Gaël", "Mickaël",
	"Hervé", "Thierry", "Pascal", "Gérard", "Rémi", "Benoît",
}

var femaleGivenNames = []string{
	"Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Martine",
	"Christine", "Sandrine", "Valérie", "Céline", "Stéphanie", "Julie", "Aurélie",
	"Émilie", "Camille", "Sophie", "Laure", "Claire", "Élodie", "Hélène", "Anne",
	"Mathilde", "Léa", "Chloé", "Manon", "Emma", "Inès", "Jade", "Louise", "Zoé",
	"Lina", "Alice", "Juliette", "Anaïs", "Océane", "Marine", "Pauline", "Agnès",
	"Brigitte", "Monique", "Danielle", "Joëlle", "Maëlle", "Gaëlle", "Solène",
	"Marie-Claire", "Anne-Sophie", "Noémie", "Bérénice",
}

var familyNames = []string{
	"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
	"Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David",
	"Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert",
	"Fontaine", "Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André",
	"Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François",
	"Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément", "Morin",
	"Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand",
	"Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour",
	"Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas",
	"Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard", "Roche",
	"Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard",
	"Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier",
	"Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet",
	"Rolland", "Le Gall", "Le Goff", "Le Roux", "Guillaume", "Jacob", "Prévost",
	"Carpentier", "Mallet", "Hamon", "Texier", "Cordier", "Barré", "Huet", "Hoarau",
	"Charpentier", "Lebrun", "Perret", "Marty", "Boucher", "Bailly", "Da Silva",
	"Ferreira", "Pereira", "Nguyen", "Benali", "Haddad", "Diallo", "Traoré",
	"N'Diaye", "Kone", "Cohen", "Lévy", "Weber", "Klein", "Fischer",
}

// cityNames name the métropole and its central city.
var cityNames = []string{
	"Valmont", "Montclair", "Bellerive", "Clairvaux-la-Neuve", "Port-Sainte-Anne",
	"Villefranche-sur-Ardre", "Beaulieu-en-Aunis", "Roquebrune-des-Monts",
}

// saints and suffixes make commune names ("Commune de Saint-Martin-sur-Ardre").
var maleSaints = []string{
	"Martin", "Jean", "Pierre", "Paul", "Jacques", "Étienne", "Laurent", "Michel",
	"Nicolas", "Denis", "Germain", "Georges", "Julien", "Hilaire", "Vincent",
	"André", "Aubin", "Benoît", "Cyr", "Didier", "Éloi", "Félix", "Gervais",
	"Honoré", "Léger", "Lubin", "Marcel", "Maurice", "Médard", "Ouen", "Rémy",
	"Sauveur", "Sulpice", "Victor", "Yves", "Amand", "Bonnet", "Christophe",
}

var femaleSaints = []string{
	"Marie", "Anne", "Catherine", "Geneviève", "Hélène", "Agnès", "Cécile",
	"Colombe", "Foy", "Luce", "Madeleine", "Marguerite", "Radegonde", "Solange",
}

var communeSuffixes = []string{
	"", "-sur-Ardre", "-les-Bains", "-en-Vallée", "-le-Vieux", "-la-Forêt",
	"-des-Champs", "-du-Bois", "-de-Mer", "-sur-Orne", "-d'Aunis", "-les-Vignes",
	"-le-Haut", "-le-Bas", "-des-Prés", "-du-Lac",
}

// services and titles of agents' memberships.
var services = []string{
	"Direction générale des services", "Direction des ressources humaines",
	"Direction des finances", "Direction des systèmes d'information",
	"Services techniques", "État civil", "Urbanisme", "Police municipale",
	"Petite enfance", "Éducation", "Culture", "Sports", "Communication",
	"Voirie", "Espaces verts", "Action sociale", "Commande publique",
	"Affaires juridiques", "Archives", "Médiathèque",
}

var titles = []string{
	"Agent administratif", "Adjoint administratif", "Chargé de mission",
	"Responsable de service", "Technicien", "Ingénieur", "Directeur",
	"Directeur adjoint", "Assistant de direction", "Gestionnaire",
	"Animateur", "Agent d'accueil", "Rédacteur", "Attaché territorial",
	"Agent technique", "Chef de projet", "Comptable", "Juriste",
}

// delegations of adjoints and vice-présidents.
var delegations = []string{
	"Finances", "Urbanisme", "Culture", "Écoles et jeunesse", "Sports",
	"Travaux et voirie", "Solidarités", "Environnement", "Sécurité",
	"Vie associative", "Commerce", "Transports", "Numérique", "Santé",
	"Logement", "Tourisme", "Personnes âgées", "Petite enfance",
}

// groupCatalog lists the groups an organization may have: share is the
// fraction of its agents put in the group; the "elus" group holds its élus.
var groupCatalog = []struct {
	slug, name string
	share      float64
}{
	{"elus", "Élus", 0},
	{"direction-generale", "Direction générale", 0.03},
	{"dsi", "Direction des systèmes d'information", 0.05},
	{"ressources-humaines", "Ressources humaines", 0.06},
	{"finances", "Finances", 0.05},
	{"services-techniques", "Services techniques", 0.15},
	{"communication", "Communication", 0.03},
	{"encadrement", "Encadrement", 0.10},
	{"referents-rgpd", "Référents RGPD", 0.01},
	{"astreinte", "Astreinte", 0.04},
}

// appNames are applications any member may use; eluAppNames are for élus.
var appNames = []string{
	"Gestion des congés", "Portail RH", "Paie", "Gestion financière",
	"Gestion électronique des documents", "Messagerie", "Intranet",
	"Urbanisme — instruction ADS", "État civil", "Élections", "Cimetières",
	"Gestion des salles", "Marchés publics", "SIG — cadastre", "Billetterie",
	"Réservation de véhicules", "Gestion du courrier", "Parapheur électronique",
	"Inscriptions scolaires", "Facturation cantine", "Médiathèque — catalogue",
	"Police municipale — main courante", "Demandes d'intervention",
	"Gestion de la dette", "Subventions aux associations", "Formation des agents",
	"Visioconférence", "Annuaire", "Espace collaboratif", "Tableau de bord",
}

var eluAppNames = []string{
	"Portail des élus", "Convocations du conseil", "Délibérations en ligne",
}

// accents maps the accented letters of the lists above to ASCII.
var accents = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ÿ", "y",
	"œ", "oe", "æ", "ae",
)

// asciiFold removes accents and keeps letters, digits and hyphens, lowercased:
// "Lefèvre" -> "lefevre", "Le Gall" -> "le-gall", "N'Diaye" -> "ndiaye".
func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range accents.Replace(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
