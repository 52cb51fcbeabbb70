/** Reading src/ for the architecture tests: files, their imports and their functions, through TypeScript's own parser. */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export const ROOT = resolve(import.meta.dirname, "../..");
export const SRC = join(ROOT, "src");

/** Every .ts file under src/, as a path relative to the repository root (src/...). */
export function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => join("src", f).split("\\").join("/"))
    .sort();
}

export function parse(file: string, text = readFileSync(join(ROOT, file), "utf8")): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

export interface Import {
  /** As written. */
  spec: string;
  /** For a relative import, the file it names, relative to the repository root (src/...). */
  target?: string | undefined;
  /** import type / export type: erased at build time. */
  typeOnly: boolean;
}

/** Static imports, re-exports and dynamic import() calls of one file. */
export function importsOf(sf: ts.SourceFile): Import[] {
  const out: Import[] = [];
  const add = (node: ts.Expression | undefined, typeOnly: boolean) => {
    if (!node || !ts.isStringLiteral(node)) return;
    const spec = node.text;
    const target = spec.startsWith(".") ? relative(ROOT, resolve(dirname(join(ROOT, sf.fileName)), spec)).replace(/\.js$/, ".ts").split("\\").join("/") : undefined;
    out.push({ spec, target, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const allTypes = !!clause && (clause.isTypeOnly || (!clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, allTypes);
    } else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal as ts.Expression, true);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export interface FunctionSpan {
  name: string;
  line: number;
  lines: number;
}

function nameOf(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isStringLiteral(named.name) || ts.isPrivateIdentifier(named.name))) return named.name.text;
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && (ts.isIdentifier(parent.name) || ts.isStringLiteral(parent.name))) return parent.name.text;
  if (parent && ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return "(anonymous)";
}

/** Every function-like node (declarations, expressions, arrows, methods, accessors, constructors) with its length in lines. */
export function functionsOf(sf: ts.SourceFile): FunctionSpan[] {
  const out: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ name: nameOf(node), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export function lineCount(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}
