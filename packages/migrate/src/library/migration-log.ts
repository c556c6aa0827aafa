import type { IssueSeverity, KeyMove, MigrationIssue } from './types.js';
import { pathString, type Path } from './plain.js';

/** Collects what a migration did: issues for people, key moves for comment-keeping tools. */
export class MigrationLog {
  readonly issues: MigrationIssue[] = [];
  readonly moves: KeyMove[] = [];

  add(severity: IssueSeverity, path: Path, message: string): void {
    this.issues.push({ path: pathString(path), message, severity });
  }
  info(path: Path, message: string): void {
    this.add('info', path, message);
  }
  warn(path: Path, message: string): void {
    this.add('warning', path, message);
  }
  error(path: Path, message: string): void {
    this.add('error', path, message);
  }
  move(from: Path, to: Path): void {
    this.moves.push({ from: [...from], to: [...to] });
  }
}
