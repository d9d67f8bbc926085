//! The `kerust` command-line tool: inspect Keras and safetensors files, and write the
//! `model!` declaration of a Keras model.

mod safetensors;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kerust_keras::codegen;
use kerust_keras::config::{Architecture, LayerKind};

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
    /// of a `.keras` model (or its `config.json`), or the tensors of a `.safetensors` file.
    Inspect {
        /// A `.keras`, `config.json` or `.safetensors` file.
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
    /// Convert a `.keras` model's weights into a kerust safetensors weights file, with the
    /// tensor names of the model `kerust codegen` declares (`<layer>/<param>`).
    Convert {
        /// The `.keras` file.
        file: PathBuf,
        /// The `.safetensors` file to write.
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { file } => inspect(&file),
        Command::Codegen { file, name } => codegen(&file, name.as_deref()),
        Command::Convert { file, out } => convert(&file, &out),
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

/// HDF5 weights need kerust-keras's HDF5 reader (its `load` feature).
const NO_H5: &str = "reading `.weights.h5` files is not available in this build of kerust: it needs kerust-keras's HDF5 reader";

fn inspect(path: &Path) -> Result<String, String> {
    match extension(path).as_str() {
        "safetensors" => inspect_safetensors(path),
        "keras" | "json" => inspect_keras(path),
        _ if is_weights_h5(path) => Err(format!("{}: {NO_H5}", path.display())),
        other => Err(format!(
            "{}: unknown file type `.{other}`; kerust inspects `.keras`, `config.json` and `.safetensors` files",
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
    let mut total = 0usize;
    let rows: Vec<Vec<String>> = tensors
        .iter()
        .map(|t| {
            let n = t.shape.iter().fold(1usize, |a, &d| a.saturating_mul(d));
            total = total.saturating_add(n);
            vec![
                t.name.clone(),
                t.dtype.clone(),
                table::shape(&t.shape),
                table::thousands(n),
            ]
        })
        .collect();
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut s = table::render(
        &format!("Safetensors: \"{name}\""),
        &["Tensor", "Dtype", "Shape", "Values"],
        &[false, false, false, true],
        &rows,
    );
    s += &format!(" Tensors: {}\n", tensors.len());
    s += &format!(" Total params: {}\n", table::thousands(total));
    for (k, v) in metadata {
        s += &format!(" Metadata {k}: {v}\n");
    }
    Ok(s)
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

fn convert(path: &Path, _out: &Path) -> Result<String, String> {
    // Check the architecture first, so unsupported layers are reported by name.
    Architecture::from_file(path).map_err(|e| e.to_string())?;
    Err(format!("{}: {NO_H5}", path.display()))
}
