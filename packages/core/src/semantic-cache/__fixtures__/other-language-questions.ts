/**
 * Questions in German, French and Spanish, written for the semantic cache's language rule (`sameLanguageReading`):
 * USE lite is an English model, and it covers these languages with English word pieces, so unrelated questions in
 * one of them scored up to 0.93 (German) against each other. Each pair is two questions with different answers.
 */
export const UNRELATED_OTHER_LANGUAGE_PAIRS: ReadonlyArray<{ lang: 'de' | 'fr' | 'es'; a: string; b: string }> = [
  { lang: 'de', a: 'Wie kann ich eine Datei in Python öffnen?', b: 'Wie kann ich eine Datei in Python löschen?' },
  { lang: 'de', a: 'Wie viele Einwohner hat Berlin?', b: 'Wie viele Einwohner hat Hamburg?' },
  { lang: 'de', a: 'Was ist der Unterschied zwischen einer Liste und einem Tupel?', b: 'Was ist der Unterschied zwischen einem Hund und einer Katze?' },
  { lang: 'de', a: 'Wie lange muss ich Nudeln kochen?', b: 'Wie lange muss ich auf meinen Reisepass warten?' },
  { lang: 'de', a: 'Welche Hauptstadt hat Frankreich?', b: 'Welche Sprache spricht man in Brasilien?' },
  { lang: 'de', a: 'Warum ist der Himmel blau?', b: 'Warum ist das Meer salzig?' },
  { lang: 'de', a: 'Kannst du mir ein Rezept für Apfelkuchen geben?', b: 'Kannst du mir einen Witz über Katzen erzählen?' },
  { lang: 'de', a: 'Wie installiere ich Node.js unter Windows?', b: 'Wie deinstalliere ich Docker unter Linux?' },
  { lang: 'de', a: 'Was bedeutet das Wort Gemütlichkeit?', b: 'Was bedeutet das Wort Fernweh?' },
  { lang: 'de', a: 'Wann wurde die Berliner Mauer gebaut?', b: 'Wann wurde die Berliner Mauer abgerissen?' },
  { lang: 'fr', a: 'Comment puis-je ouvrir un fichier en Python ?', b: 'Comment puis-je supprimer un fichier en Python ?' },
  { lang: 'fr', a: 'Quelle est la capitale de l’Australie ?', b: 'Quelle est la monnaie du Japon ?' },
  { lang: 'fr', a: 'Pourquoi le ciel est-il bleu ?', b: 'Pourquoi la mer est-elle salée ?' },
  { lang: 'fr', a: 'Combien de temps faut-il pour cuire des pâtes ?', b: 'Combien de temps faut-il pour apprendre le piano ?' },
  { lang: 'fr', a: 'Quelle est la différence entre une liste et un tuple ?', b: 'Quelle est la différence entre un chien et un loup ?' },
  { lang: 'fr', a: 'Peux-tu me donner une recette de crêpes ?', b: 'Peux-tu me raconter une blague sur les chats ?' },
  { lang: 'fr', a: 'Comment installer Node.js sous Windows ?', b: 'Comment désinstaller Docker sous Linux ?' },
  { lang: 'fr', a: 'Qui a écrit Les Misérables ?', b: 'Qui a peint la Joconde ?' },
  { lang: 'fr', a: 'Quand la tour Eiffel a-t-elle été construite ?', b: 'Quand la Révolution française a-t-elle commencé ?' },
  { lang: 'fr', a: 'Que signifie le mot dépaysement ?', b: 'Que signifie le mot retrouvailles ?' },
  { lang: 'es', a: '¿Cómo puedo abrir un archivo en Python?', b: '¿Cómo puedo borrar un archivo en Python?' },
  { lang: 'es', a: '¿Cuál es la capital de Argentina?', b: '¿Cuál es la moneda de México?' },
  { lang: 'es', a: '¿Por qué el cielo es azul?', b: '¿Por qué el mar es salado?' },
  { lang: 'es', a: '¿Cuánto tiempo hay que cocer la pasta?', b: '¿Cuánto tiempo se tarda en aprender a tocar la guitarra?' },
  { lang: 'es', a: '¿Cuál es la diferencia entre una lista y una tupla?', b: '¿Cuál es la diferencia entre un perro y un lobo?' },
  { lang: 'es', a: '¿Me puedes dar una receta de tortilla de patatas?', b: '¿Me puedes contar un chiste sobre gatos?' },
  { lang: 'es', a: '¿Cómo instalo Node.js en Windows?', b: '¿Cómo desinstalo Docker en Linux?' },
  { lang: 'es', a: '¿Quién escribió Don Quijote?', b: '¿Quién pintó Las Meninas?' },
  { lang: 'es', a: '¿Cuándo se construyó la Alhambra?', b: '¿Cuándo terminó la Guerra Civil española?' },
  { lang: 'es', a: '¿Qué significa la palabra sobremesa?', b: '¿Qué significa la palabra madrugada?' },
];

/** The same question in English and in another language: one answer is not the other's (it is in another language). */
export const TRANSLATED_PAIRS: ReadonlyArray<{ lang: 'de' | 'fr' | 'es'; en: string; other: string }> = [
  { lang: 'de', en: 'How can I open a file in Python?', other: 'Wie kann ich eine Datei in Python öffnen?' },
  { lang: 'de', en: 'Why is the sky blue?', other: 'Warum ist der Himmel blau?' },
  { lang: 'de', en: 'How do I install Node.js on Windows?', other: 'Wie installiere ich Node.js unter Windows?' },
  { lang: 'fr', en: 'How can I open a file in Python?', other: 'Comment puis-je ouvrir un fichier en Python ?' },
  { lang: 'fr', en: 'Why is the sky blue?', other: 'Pourquoi le ciel est-il bleu ?' },
  { lang: 'fr', en: 'How do I install Node.js on Windows?', other: 'Comment installer Node.js sous Windows ?' },
  { lang: 'es', en: 'How can I open a file in Python?', other: '¿Cómo puedo abrir un archivo en Python?' },
  { lang: 'es', en: 'Why is the sky blue?', other: '¿Por qué el cielo es azul?' },
  { lang: 'es', en: 'How do I install Node.js on Windows?', other: '¿Cómo instalo Node.js en Windows?' },
];
