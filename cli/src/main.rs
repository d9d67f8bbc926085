//! The `kerust` command-line tool: inspect Keras and safetensors files, write the
//! `model!` declaration of a Keras model, and convert its weights to safetensors.

mod safetensors;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kerust_keras::archive::KerasArchive;
use kerust_keras::config::{Architecture, LayerKind};
use kerust_keras::{codegen, convert, h5};

/// Inspect Keras and safetensors files, and write kerust models from Keras ones.
#[derive(Parser)]
#[command(name = "kerust", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a Keras-style summary of a file: the layers, output shapes and parameter counts
    /// of a `.keras` model (or its `config.json`), or the tensors of a `.weights.h5` or
    /// `.safetensors` file.
    Inspect {
        /// A `.keras`, `config.json`, `.weights.h5` or `.safetensors` file.
        file: PathBuf,
    },
    /// Print the `model!` declaration of a Keras model: `model!` with the file's weights
    /// reproduces Keras's outputs.
    Codegen {
        /// A `.keras` file or its `config.json`.
        file: PathBuf,
        /// The struct's name (default: the Keras model's name in CamelCase).
        #[arg(long)]
        name: Option<String>,
    },
    /// Convert a Keras model's weights into a kerust safetensors weights file, with the
    /// tensor names of the model `kerust codegen` declares (`<layer>/<param>`): it loads
    /// with `load_weights` into that model.
    Convert {
        /// The `.keras` file, or a `.weights.h5` file with `--config`.
        file: PathBuf,
        /// The `.safetensors` file to write (replaced atomically).
        out: PathBuf,
        /// The architecture of a `.weights.h5` file: a `.keras` file or its `config.json`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { file } => inspect(&file),
        Command::Codegen { file, name } => codegen(&file, name.as_deref()),
        Command::Convert { file, out, config } => convert(&file, &out, config.as_deref()),
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn is_weights_h5(path: &Path) -> bool {
    matches!(extension(path).as_str(), "h5" | "hdf5")
}

fn inspect(path: &Path) -> Result<String, String> {
    match extension(path).as_str() {
        "safetensors" => inspect_safetensors(path),
        "keras" | "json" => inspect_keras(path),
        _ if is_weights_h5(path) => inspect_h5(path),
        other => Err(format!(
            "{}: unknown file type `.{other}`; kerust inspects `.keras`, `config.json`, `.weights.h5` and `.safetensors` files",
            path.display()
        )),
    }
}

/// The parameters of a layer that training does not change (BatchNormalization's moving
/// statistics).
fn non_trainable(kind: &LayerKind, params: &[(&str, Vec<usize>)]) -> usize {
    match kind {
        LayerKind::BatchNormalization { .. } => params
            .iter()
            .filter(|(n, _)| n.starts_with("moving_"))
            .map(|(_, s)| s.iter().product::<usize>())
            .sum(),
        _ => 0,
    }
}

fn inspect_keras(path: &Path) -> Result<String, String> {
    let arch = Architecture::from_file(path).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut frozen = 0usize;
    for layer in &arch.layers {
        frozen = frozen.saturating_add(non_trainable(&layer.kind, &layer.params()));
        rows.push(vec![
            format!("{} ({})", layer.name, layer.class_name),
            table::batch_shape(&layer.output_shape),
            table::thousands(layer.param_count()),
        ]);
    }
    let total = arch.param_count();
    let mut s = table::render(
        &format!(
            "Model: \"{}\" (input {})",
            arch.name,
            table::batch_shape(&arch.input_shape)
        ),
        &["Layer (type)", "Output Shape", "Param #"],
        &[false, false, true],
        &rows,
    );
    s += &format!(" Total params: {}\n", table::thousands(total));
    s += &format!(
        " Trainable params: {}\n",
        table::thousands(total - frozen.min(total))
    );
    s += &format!(" Non-trainable params: {}\n", table::thousands(frozen));
    Ok(s)
}

fn inspect_safetensors(path: &Path) -> Result<String, String> {
    let (tensors, metadata) = safetensors::read_header(path)?;
    let rows: Vec<_> = tensors
        .iter()
        .map(|t| (t.name.clone(), t.dtype.clone(), t.shape.as_slice()))
        .collect();
    let mut s = table::tensors(&format!("Safetensors: \"{}\"", file_name(path)), "Tensor", &rows);
    for (k, v) in metadata {
        s += &format!(" Metadata {k}: {v}\n");
    }
    Ok(s)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn inspect_h5(path: &Path) -> Result<String, String> {
    let in_file = |e: kerust_core::Error| format!("{}: {e}", path.display());
    let bytes = h5::read_file(path).map_err(|e| e.to_string())?;
    let file = h5::File::parse(&bytes).map_err(in_file)?;
    let datasets = file.datasets().map_err(in_file)?;
    let rows: Vec<_> = datasets
        .iter()
        .map(|d| (d.path().to_string(), d.dtype().name(), d.shape()))
        .collect();
    Ok(table::tensors(
        &format!("HDF5: \"{}\"", file_name(path)),
        "Dataset",
        &rows,
    ))
}

/// Whether `name` can name a struct.
fn is_type_name(name: &str) -> bool {
    let mut chars = name.chars();
    let start = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    start && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && name != "_" && name != "Self"
}

fn codegen(path: &Path, name: Option<&str>) -> Result<String, String> {
    let arch = Architecture::from_file(path).map_err(|e| e.to_string())?;
    let name = match name {
        Some(n) if !is_type_name(n) => {
            return Err(format!(
                "`--name {n}` is not a Rust type name; use letters, digits and `_`, such as `Mnist`"
            ))
        }
        Some(n) => n.to_string(),
        None => codegen::struct_name(&arch.name),
    };
    Ok(format!(
        "use kerust::prelude::*;\n\n{}",
        codegen::model_decl(&arch, &name)
    ))
}

fn convert(path: &Path, out: &Path, config: Option<&Path>) -> Result<String, String> {
    let (arch, weights) = if is_weights_h5(path) {
        let Some(config) = config else {
            return Err(format!(
                "{}: a `.weights.h5` file holds no architecture; give it with `--config MODEL.keras` (or its `config.json`)",
                path.display()
            ));
        };
        let arch = Architecture::from_file(config).map_err(|e| e.to_string())?;
        (arch, h5::read_file(path).map_err(|e| e.to_string())?)
    } else if config.is_some() {
        return Err(format!(
            "{}: `--config` is for `.weights.h5` files; a `.keras` file holds its own architecture",
            path.display()
        ));
    } else {
        let archive = KerasArchive::open(path).map_err(|e| e.to_string())?;
        let arch =
            Architecture::from_json(&archive.config_json).map_err(|e| format!("{}: {e}", path.display()))?;
        (arch, archive.weights_h5)
    };
    let tensors =
        convert::to_safetensors(&arch, &weights, out).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows: Vec<_> = tensors
        .iter()
        .map(|t| (t.name.clone(), "F32".to_string(), t.shape.as_slice()))
        .collect();
    let mut s = table::tensors(
        &format!(
            "Converted: \"{}\" (model {})",
            file_name(path),
            codegen::struct_name(&arch.name)
        ),
        "Tensor",
        &rows,
    );
    s += &format!(" Wrote {}\n", out.display());
    Ok(s)
}
