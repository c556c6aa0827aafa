import { parse, type ParserPlugin } from '@babel/parser';
import type { File } from '@babel/types';

/** Babel parser plugins for a file extension: TypeScript for .ts/.mts/.cts, plus JSX for .tsx/.jsx/.js. */
function pluginsFor(file: string): ParserPlugin[] {
  const common: ParserPlugin[] = ['decorators-legacy', 'importAttributes', 'explicitResourceManagement'];
  if (/\.[mc]?ts$/i.test(file)) return ['typescript', ...common];
  if (/\.tsx$/i.test(file)) return ['typescript', 'jsx', ...common];
  return ['jsx', ...common];
}

/** Parses JS/TS source with positions and comments (Babel's parser: the one a codemod can rely on for TS and JSX). */
export function parseSource(file: string, source: string): File {
  return parse(source, {
    sourceType: /\.cjs$/i.test(file) ? 'script' : 'unambiguous',
    allowReturnOutsideFunction: true,
    allowAwaitOutsideFunction: true,
    errorRecovery: false,
    plugins: pluginsFor(file),
  });
}
