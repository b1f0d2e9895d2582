// After tsc: copy what n8n loads beside the compiled node and credential (icons, codex metadata).
const { src, dest } = require('gulp');

function copyAssets() {
	return src(['nodes/**/*.svg', 'nodes/**/*.png', 'nodes/**/*.node.json', 'credentials/**/*.svg'], {
		base: '.',
		encoding: false,
		allowEmpty: true,
	}).pipe(dest('dist'));
}

exports.build = copyAssets;
exports.default = copyAssets;
