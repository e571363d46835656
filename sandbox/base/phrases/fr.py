"""French phrasings."""
# ruff: noqa: E501  (a template is one line: it reads as the sentence it writes)

OPEN = (
    "{Bonjour|Salut|Bonsoir}{.|, l'équipe.}",
    "{Honnêtement|Pour être franc|Bon}, {voici mon avis|je vais faire court|voilà}.",
)
CLOSE_NEG = (
    "{Merci de|Pourriez-vous} {corriger ça|régler le problème|vous en occuper} {vite|rapidement|au plus vite}.",
    "{Très|Vraiment|Assez} {déçu|déçue|agacé} {pour le moment|franchement|dans l'ensemble}.",
)
CLOSE_POS = (
    "{Merci|Merci beaucoup|Bravo}{!| à toute l'équipe.}",
    "{Je recommande|Je vous recommande|Je l'ai déjà recommandé} à {mes amis|mes collègues|tout le monde}.",
)
CORE = {
    "billing": (
        "On m'a {facturé|prélevé|débité} {deux fois|en double} {le même mois|la même commande|l'abonnement}.",
        "{Ma|La dernière} facture {contient|affiche|comporte} un {montant|frais|prélèvement} que je {ne reconnais pas|n'ai jamais accepté|ne comprends pas}.",
        "J'attends {toujours|encore|depuis deux mois} {le remboursement|l'avoir|le remboursement promis} du {double prélèvement|trop-perçu|montant en trop}.",
    ),
    "support_wait": (
        "{Le support|Le service client|L'assistance} a mis {quatre jours|plus d'une semaine|une éternité} à {répondre|me répondre|revenir vers moi}.",
        "J'ai {ouvert|envoyé|créé} un ticket {il y a une semaine|il y a des jours|le mois dernier} et {personne ne répond|toujours rien|aucune réponse}.",
        "{Quarante minutes|Une heure|Une éternité} {d'attente|en attente} {au téléphone|sur le chat|pour parler à quelqu'un}{, j'ai raccroché|, pour rien|}.",
    ),
    "bugs": (
        "L'application {plante|se ferme|se bloque} {à chaque fois que|dès que|quand} {j'envoie une photo|j'ouvre les rapports|j'essaie d'exporter}.",
        "Depuis la {dernière|récente} mise à jour {ça plante sans arrêt|la moitié des fonctions ne marche plus|plus rien ne se synchronise}.",
        "{J'ai|On a|J'obtiens} un message d'erreur {à chaque connexion|quand je valide le formulaire|au moment de payer}.",
    ),
    "onboarding": (
        "{La configuration|La mise en route|L'ouverture} {du compte|de mon compte} était {confuse|compliquée|plus difficile que prévu}.",
        "{Le tutoriel|Le guide de démarrage|La prise en main} {était clair|était très simple|m'a pris cinq minutes} et {tout était prêt|on a démarré tout de suite|tout avait du sens}.",
        "Je n'ai pas {compris|trouvé} comment {inviter mon équipe|créer la première enquête|connecter mes données} {au début|sans aide|tout seul}.",
    ),
    "pricing": (
        "{C'est|Le service est|L'abonnement est} {trop cher|hors de prix|bien trop cher} pour {ce qu'il fait|une petite entreprise|notre usage}.",
        "{Le prix|L'abonnement|Le tarif} a {encore augmenté|doublé|augmenté sans prévenir} et {c'est difficile à justifier|on ne peut plus suivre|je ne suis pas content}.",
        "{Il existe|On trouve} des {alternatives|concurrents|outils} {moins chers|qui font pareil|plus complets} pour {moitié prix|beaucoup moins|moins d'argent}.",
    ),
    "praise": (
        "{Excellent|Super|Très bon} {service|produit|accueil}{, j'adore|, vraiment|}.",
        "{J'adore|On adore|J'aime beaucoup} {la simplicité de l'outil|le produit|travailler avec vous}.",
        "{Tout|Tout ça} {fonctionne parfaitement|marche très bien|marche sans souci} {pour nous|à chaque fois|et me fait gagner du temps}.",
    ),
    "performance": (
        "Le {site|tableau de bord|logiciel} est {souvent|très|terriblement} lent {à charger|le matin|ces temps-ci}.",
        "Les {pages|rapports|écrans} mettent {une éternité|des plombes|dix secondes} à {charger|s'ouvrir|s'afficher}.",
        "{Les performances|La vitesse|Le temps de chargement} {se sont dégradées|sont devenues catastrophiques|ont beaucoup empiré} {récemment|ces dernières semaines|depuis la mise à jour}.",
    ),
    "delivery": (
        "{Ma commande|Mon colis|La livraison} {est arrivée|est arrivé|a eu} {une semaine en retard|plusieurs jours de retard|bien après la date promise}.",
        "{Le colis|Le carton|Ma commande} est {arrivé abîmé|arrivé ouvert|arrivée écrasée} et {il manquait des articles|le produit était cassé|personne ne répond}.",
        "{J'attends toujours|J'attends encore|On attend} {ma commande|la livraison|mon colis} {depuis des jours|depuis la semaine dernière|qui n'arrive jamais}.",
    ),
}
DETAIL = {
    "billing": (
        "{Personne|Aucun conseiller} n'a pu m'expliquer {ce montant|pourquoi|ce prélèvement}.",
        "{Merci de|Pouvez-vous} {rembourser|annuler} le prélèvement {en double|en trop|erroné}.",
    ),
    "support_wait": (
        "{Une réponse|Un simple accusé de réception|Un retour} {rapide|même court} {aurait suffi|aurait aidé|serait apprécié}.",
        "{Le ticket|Ma demande|Mon dossier} {est toujours ouvert|a été fermé sans réponse|passe d'un service à l'autre}.",
    ),
    "bugs": (
        "Je l'ai {signalé|remonté} {deux fois|la semaine dernière|au support} et {ça continue|rien n'est corrigé|c'est revenu}.",
        "J'ai dû {tout refaire|tout ressaisir|refaire une heure de travail}.",
    ),
    "onboarding": (
        "{Une courte vidéo|Un guide simple|Un pas-à-pas} {aiderait beaucoup|m'aurait fait gagner des heures|suffirait}.",
        "{La documentation|Le centre d'aide|Les guides} {explique|expliquent} {chaque étape|la configuration|les bases} {clairement|très bien}.",
    ),
    "pricing": (
        "On n'utilise que {deux|quelques|deux ou trois} fonctionnalités.",
        "On va {sans doute|probablement} {passer à une offre inférieure|changer d'outil|résilier} {au renouvellement|l'an prochain|bientôt}.",
    ),
    "praise": (
        "{Ça me fait gagner|On gagne} {des heures|beaucoup de temps|un temps fou} {chaque semaine|tous les jours|chaque mois}.",
        "{Toute l'équipe|Mes collègues|Tout le bureau} {l'utilise|l'adore|s'en sert} {maintenant|au quotidien|déjà}.",
    ),
    "performance": (
        "{Chaque|Le moindre} {clic|rapport|changement de page} prend {plusieurs|quelques|cinq} secondes.",
        "{Ma connexion|Mon réseau|Internet} {va bien|est rapide|n'est pas en cause}{, les autres sites chargent tout de suite|}.",
    ),
    "delivery": (
        "{La date de livraison|La date prévue|La date promise} {a changé plusieurs fois|n'a jamais été respectée|a été repoussée trois fois}.",
        "{Personne|Aucun livreur} ne m'a {prévenu|appelé|informé} {du retard|de la date|de rien}.",
    ),
}
