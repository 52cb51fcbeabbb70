/**
 * Turns RE2's refusal of a policy regex into a line for its author: what RE2
 * cannot express (backreferences, lookaround, possessive or atomic groups,
 * huge counted repetitions) gets a hint how to rewrite it.
 */
const HINTS: [RegExp, string][] = [
  [/invalid escape sequence: \\[1-9]|invalid named capture|\\k</i, "backreferences (\\1, \\k<name>) cannot be matched in linear time; repeat the text instead"],
  [/invalid perl operator: \(\?<?[=!]/, "lookaround ((?=, (?!, (?<=, (?<!) cannot be matched in linear time; match the surrounding text instead, or use \\b for word edges"],
  [/invalid perl operator: \(\?>/, "atomic groups (?>...) are not supported; a plain group (?:...) is already safe under RE2"],
  [/bad repetition operator: [*+?]\+/, "possessive repetitions (a++) are not supported; a plain repetition is already safe under RE2"],
  [/invalid repetition size/, "counted repetitions are limited to {0,1000}"],
];

export function re2Refusal(pattern: string, message: string): string {
  const hint = HINTS.find(([re]) => re.test(message));
  return hint
    ? `regular expression '${pattern}' cannot run on RE2: ${hint[1]} (${message})`
    : `bad regular expression '${pattern}': ${message}`;
}
